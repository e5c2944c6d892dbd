// Command fakeec2 answers the three calls `broom plan` makes for an
// ebs-snapshot rule, the way STS and EC2 do, for an account with -snapshots
// snapshots made 400 days ago: GetCallerIdentity, DescribeImages (no
// images) and DescribeSnapshots, in pages of MaxResults (at most 1,000)
// with NextToken. moto cannot serve 20,000 snapshots (it answers
// DescribeSnapshots in one page, and took more than 5 minutes to build
// it), so the benchmark of a 20,000-action plan runs the real broom binary
// against this instead. It writes its URL to -addr-file and serves until
// SIGTERM.
package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("snapshots", 20000, "snapshots in the account")
	addrFile := flag.String("addr-file", "", "file to write the URL to (required)")
	flag.Parse()
	if *addrFile == "" {
		fmt.Fprintln(os.Stderr, "fakeec2: -addr-file is required")
		os.Exit(2)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		err = os.WriteFile(*addrFile, []byte("http://"+l.Addr().String()+"\n"), 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeec2:", err)
		os.Exit(1)
	}
	f := fake{n: *n, created: time.Now().AddDate(0, 0, -400).UTC().Format("2006-01-02T15:04:05.000Z")}
	go func() { _ = http.Serve(l, f) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
}

type fake struct {
	n       int
	created string
}

const (
	account = "123456789012"
	ec2NS   = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

func (f fake) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	// The whole answer, then sent with its Content-Length, as AWS does.
	w := &answer{ResponseWriter: rw}
	defer w.send()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	switch action := r.Form.Get("Action"); action {
	case "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`+
			`<GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/bench</Arn><UserId>AIDABENCH</UserId><Account>%s</Account></GetCallerIdentityResult>`+
			`<ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, account, account)
	case "DescribeImages":
		fmt.Fprintf(w, `<DescribeImagesResponse xmlns="%s"><requestId>bench</requestId><imagesSet/></DescribeImagesResponse>`, ec2NS)
	case "DescribeSnapshots":
		f.snapshots(w, r.Form.Get("MaxResults"), r.Form.Get("NextToken"))
	default:
		var msg strings.Builder
		_ = xml.EscapeText(&msg, []byte("fakeec2 does not do "+action))
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<Response><Errors><Error><Code>InvalidAction</Code><Message>%s</Message></Error></Errors><RequestID>bench</RequestID></Response>`, msg.String())
	}
}

// answer buffers a response.
type answer struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *answer) WriteHeader(status int)      { a.status = status }
func (a *answer) Write(p []byte) (int, error) { return a.body.Write(p) }

func (a *answer) send() {
	a.Header().Set("Content-Length", strconv.Itoa(a.body.Len()))
	a.ResponseWriter.WriteHeader(max(a.status, http.StatusOK))
	_, _ = a.body.WriteTo(a.ResponseWriter)
}

// snapshots writes one page of DescribeSnapshots: the snapshots from
// NextToken on, MaxResults of them (1,000 if unset or larger).
func (f fake) snapshots(w io.Writer, maxResults, token string) {
	size, _ := strconv.Atoi(maxResults)
	if size <= 0 || size > 1000 {
		size = 1000
	}
	from, _ := strconv.Atoi(token)
	to := min(from+size, f.n)
	fmt.Fprintf(w, `<DescribeSnapshotsResponse xmlns="%s"><requestId>bench</requestId><snapshotSet>`, ec2NS)
	for i := from; i < to; i++ {
		fmt.Fprintf(w, `<item><snapshotId>snap-%017x</snapshotId><volumeId>vol-%017x</volumeId><status>completed</status>`+
			`<startTime>%s</startTime><progress>100%%</progress><ownerId>%s</ownerId><volumeSize>8</volumeSize>`+
			`<description>bench snapshot %d</description><encrypted>false</encrypted><storageTier>standard</storageTier>`+
			`<tagSet><item><key>Environment</key><value>ci</value></item></tagSet></item>`,
			i, i%300, f.created, account, i)
	}
	fmt.Fprint(w, `</snapshotSet>`)
	if to < f.n {
		fmt.Fprintf(w, `<nextToken>%d</nextToken>`, to)
	}
	fmt.Fprint(w, `</DescribeSnapshotsResponse>`)
}
