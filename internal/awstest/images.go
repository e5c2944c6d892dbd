package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
)

// ImageMapper is a reverse proxy on 127.0.0.1 that adds EBS block device
// mappings to the images in DescribeImages answers. AWS gives an AMI one
// snapshot per EBS volume; moto gives every AMI exactly one, whatever
// RegisterImage asked (see RegisterImage). Through an ImageMapper, a test
// gives an image more snapshots made with CreateSnapshot, which moto then
// describes, tags and deletes like any other: everything but the image's
// description is moto's own. It is safe for concurrent use.
type ImageMapper struct {
	srv   *httptest.Server
	mu    sync.Mutex
	extra map[string][]string // image id → added snapshot ids
}

// NewImageMapper starts an ImageMapper forwarding to target (e.g.
// Moto.URL()); it is closed by t.Cleanup.
func NewImageMapper(t testing.TB, target string) *ImageMapper {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Fatalf("awstest: image mapper target %q is not an absolute URL (err %v)", target, err)
	}
	m := &ImageMapper{extra: map[string][]string{}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // keep the Host the client signed
			// Let the transport ask for and undo any compression, so that
			// ModifyResponse reads plain XML.
			pr.Out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: m.modify,
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("awstest: image mapper listen on loopback: %v", err)
	}
	m.srv = &httptest.Server{Listener: l, Config: &http.Server{Handler: proxy}}
	m.srv.Start()
	t.Cleanup(m.srv.Close)
	return m
}

// URL is the mapper's endpoint, http://127.0.0.1:PORT.
func (m *ImageMapper) URL() string { return m.srv.URL }

// AddSnapshots makes image describe snapshots as further EBS volumes
// (/dev/sdf, /dev/sdg, …, 8 GiB each), after the one moto gave it.
func (m *ImageMapper) AddSnapshots(image string, snapshots ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.extra[image] = append(m.extra[image], snapshots...)
}

// modify adds the extra mappings to a DescribeImages answer. An image whose
// mappings it cannot find fails the call (502): a test must not pass on an
// answer that silently lacks them.
func (m *ImageMapper) modify(resp *http.Response) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if bytes.Contains(body, []byte("<DescribeImagesResponse")) {
		m.mu.Lock()
		for image, snaps := range m.extra {
			if body, err = addMappings(body, image, snaps); err != nil {
				break
			}
		}
		m.mu.Unlock()
		if err != nil {
			return err
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// addMappings inserts one block device mapping per snapshot into image's
// blockDeviceMapping list in a DescribeImages XML answer; an answer
// without the image is returned as it is.
func addMappings(body []byte, image string, snaps []string) ([]byte, error) {
	from, to, ok := imageItem(body, image)
	if !ok {
		return body, nil
	}
	var items bytes.Buffer
	for i, s := range snaps {
		fmt.Fprintf(&items, "<item><deviceName>/dev/sd%c</deviceName><ebs><snapshotId>%s</snapshotId><volumeSize>8</volumeSize>"+
			"<deleteOnTermination>false</deleteOnTermination><volumeType>standard</volumeType></ebs></item>", 'f'+i, s)
	}
	item := body[from:to]
	var changed []byte
	switch {
	case bytes.Contains(item, []byte("</blockDeviceMapping>")):
		changed = bytes.Replace(item, []byte("</blockDeviceMapping>"), append(items.Bytes(), "</blockDeviceMapping>"...), 1)
	case bytes.Contains(item, []byte("<blockDeviceMapping/>")):
		changed = bytes.Replace(item, []byte("<blockDeviceMapping/>"), []byte("<blockDeviceMapping>"+items.String()+"</blockDeviceMapping>"), 1)
	default:
		return nil, fmt.Errorf("awstest: image %s has no blockDeviceMapping in the answer", image)
	}
	out := make([]byte, 0, len(body)+items.Len())
	out = append(out, body[:from]...)
	out = append(out, changed...)
	return append(out, body[to:]...), nil
}

// imageItem finds the <item>…</item> of imagesSet that describes image:
// the top-level items are told apart by counting nested ones.
func imageItem(body []byte, image string) (from, to int, ok bool) {
	set := bytes.Index(body, []byte("<imagesSet>"))
	if set < 0 {
		return 0, 0, false
	}
	open, closing := []byte("<item>"), []byte("</item>")
	depth, start := 0, 0
	for i := set; i < len(body); i++ {
		switch {
		case bytes.HasPrefix(body[i:], open):
			if depth == 0 {
				start = i
			}
			depth++
		case bytes.HasPrefix(body[i:], closing):
			depth--
			if depth == 0 {
				end := i + len(closing)
				if bytes.Contains(body[start:end], []byte("<imageId>"+image+"</imageId>")) {
					return start, end, true
				}
			}
			if depth < 0 {
				return 0, 0, false // past the end of imagesSet
			}
		}
	}
	return 0, 0, false
}
