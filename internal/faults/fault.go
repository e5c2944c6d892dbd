package faults

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault is what the proxy does instead of (or besides) forwarding a call.
// Build one with the functions below or fill it in.
type Fault struct {
	// Delay is waited before anything else. A Fault with only a Delay
	// forwards the call after it, if the client is still waiting: a slow
	// response, for testing per-call timeouts.
	Delay time.Duration
	// AfterForward forwards the call first and discards the target's
	// answer, then answers with the fault: the call took effect, but the
	// client does not know it (as when a response is lost).
	AfterForward bool
	// Reset closes the connection with a TCP reset instead of answering.
	Reset bool
	// Status is the HTTP status of the answer.
	Status int
	// Code and Message are an AWS error, written in the call's protocol
	// (EC2 or other query XML, S3 XML, awsJson), or as GitHub-style JSON
	// {"message": Message} for a call that is not AWS.
	Code, Message string
	// Body, if set, is sent as is instead (JSON unless Header says
	// otherwise), e.g. GitHub's error documents.
	Body string
	// Header is added to the answer, e.g. Retry-After.
	Header http.Header
}

// Throttle is EC2's throttling error: 503 RequestLimitExceeded.
func Throttle() Fault {
	return Fault{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
}

// SlowDown is S3's throttling error: 503 SlowDown.
func SlowDown() Fault {
	return Fault{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."}
}

// InternalError is a transient server error: 500 InternalError.
func InternalError() Fault {
	return Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "An internal error has occurred."}
}

// APIError is any AWS error, e.g. APIError(400, "InvalidSnapshot.InUse",
// "The snapshot snap-1 is currently in use by ami-2") or
// APIError(403, "UnauthorizedOperation", "You are not authorized to perform this operation.").
func APIError(status int, code, message string) Fault {
	return Fault{Status: status, Code: code, Message: message}
}

// ConnReset cuts the connection without an answer.
func ConnReset() Fault { return Fault{Reset: true} }

// Delay forwards the call after d: a response slower than the client's
// timeout when d is longer than it.
func Delay(d time.Duration) Fault { return Fault{Delay: d} }

// gitHubDocs is where GitHub's rate-limit errors point; go-github
// recognises a secondary limit by this URL's suffix.
const gitHubDocs = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"

func gitHubError(message, docs string) string {
	b, _ := json.Marshal(map[string]string{"message": message, "documentation_url": docs})
	return string(b)
}

// SecondaryRateLimit is GitHub's secondary rate limit: 403 with
// Retry-After (whole seconds, at least 1) and the message GitHub sends.
func SecondaryRateLimit(retryAfter time.Duration) Fault {
	return Fault{
		Status: http.StatusForbidden,
		Header: http.Header{"Retry-After": {seconds(retryAfter)}},
		Body: gitHubError("You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
			gitHubDocs+"#about-secondary-rate-limits"),
	}
}

// PrimaryRateLimit is GitHub's exhausted hourly allowance: 403 with
// X-RateLimit-Remaining: 0 and X-RateLimit-Reset at reset.
func PrimaryRateLimit(reset time.Time) Fault {
	return Fault{
		Status: http.StatusForbidden,
		Header: http.Header{
			"X-Ratelimit-Limit":     {"5000"},
			"X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Reset":     {strconv.FormatInt(reset.Unix(), 10)},
		},
		Body: gitHubError("API rate limit exceeded.", gitHubDocs+"#about-the-primary-rate-limit"),
	}
}

// TooManyRequests is 429 with Retry-After, as GitHub (and many APIs) send.
func TooManyRequests(retryAfter time.Duration) Fault {
	return Fault{
		Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {seconds(retryAfter)}},
		Body:   gitHubError("Too many requests.", gitHubDocs),
	}
}

// BadGateway is a 502 from GitHub's front end.
func BadGateway() Fault {
	return Fault{Status: http.StatusBadGateway, Body: `{"message":"Server Error"}`}
}

func seconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}

// String describes f for stats and logs.
func (f Fault) String() string {
	var parts []string
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	if f.AfterForward {
		parts = append(parts, "after forward")
	}
	switch {
	case f.Reset:
		parts = append(parts, "reset")
	case f.Status != 0:
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%d %s", f.Status, f.Code)))
	}
	return strings.Join(parts, ", ")
}

// answer writes f's response for c. requestID identifies it in the body.
func (f Fault) answer(w http.ResponseWriter, c call, requestID string) {
	h := w.Header()
	for k, vs := range f.Header {
		h[k] = append([]string(nil), vs...)
	}
	body, contentType := f.Body, "application/json; charset=utf-8"
	if body == "" {
		body, contentType = f.render(c, requestID)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType)
	}
	if c.service != "" {
		h.Set("X-Amzn-Requestid", requestID)
		if f.Code != "" {
			h.Set("X-Amzn-Errortype", f.Code)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

// render writes Code and Message the way c's protocol does.
func (f Fault) render(c call, requestID string) (body, contentType string) {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	code, msg, id := esc(f.Code), esc(f.Message), esc(requestID)
	switch c.proto {
	case protoEC2:
		return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Errors><Error><Code>` + code + `</Code><Message>` + msg + `</Message></Error></Errors><RequestID>` + id + `</RequestID></Response>`,
			"text/xml;charset=UTF-8"
	case protoQuery:
		kind := "Sender"
		if f.Status >= 500 {
			kind = "Receiver"
		}
		return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<ErrorResponse><Error><Type>` + kind + `</Type><Code>` + code + `</Code><Message>` + msg + `</Message></Error><RequestId>` + id + `</RequestId></ErrorResponse>`,
			"text/xml"
	case protoS3:
		return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>` + code + `</Code><Message>` + msg + `</Message><RequestId>` + id + `</RequestId><HostId>` + id + `</HostId></Error>`,
			"application/xml"
	case protoJSON:
		b, _ := json.Marshal(map[string]string{"__type": f.Code, "message": f.Message})
		return string(b), "application/x-amz-json-1.1"
	}
	b, _ := json.Marshal(map[string]string{"message": f.Message})
	return string(b), "application/json; charset=utf-8"
}
