package mask_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/mask"
)

// Regressions from a review of the package: each a way personal data got
// through, or a panic.

const phone, idNo = "13812345678", "11010519491231002X"

type contact struct {
	Phone string `mask:"mobile"`
}

func TestReviewSlog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(mask.NewLogHandler(slog.NewJSONHandler(&buf, nil), mask.LogOptions{}))
	// A slice (not comparable: the handler compared values and panicked),
	// a struct, bytes, a float under a phone key.
	log.Info("x", "ids", []string{"a", phone}, "c", contact{Phone: phone}, "raw", []byte("id "+idNo), "phone", 1.3812345678e10)
	out := buf.String()
	for _, leak := range []string{phone, idNo} {
		if strings.Contains(out, leak) {
			t.Errorf("the log leaks %s: %s", leak, out)
		}
	}
	// ReplaceAttr: "msg" and "time" attributes of the caller's, in a group
	// or at the top, are masked; the record's own pass.
	buf.Reset()
	log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: mask.ReplaceAttr(mask.LogOptions{})}))
	log.Info("call "+phone, slog.Group("req", slog.String("msg", "call me "+phone)), slog.String("time", phone))
	if out := buf.String(); strings.Contains(out, phone) || !strings.Contains(out, `"level":"INFO"`) {
		t.Errorf("ReplaceAttr: %s", out)
	}
}

func TestReviewJSONKeys(t *testing.T) {
	var out bytes.Buffer
	if err := mask.MaskJSON(&out, strings.NewReader(`{"by_phone":{"`+phone+`":"Zhang","a@corp.cn":1}}`), mask.JSONOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), phone) || strings.Contains(out.String(), "a@corp.cn") {
		t.Fatalf("keys leak: %s", out.String())
	}
}

func TestReviewMiddleware(t *testing.T) {
	var logged []error
	m := &mask.Middleware{ErrorLog: func(_ *http.Request, err error) { logged = append(logged, err) }}
	serve := func(h http.HandlerFunc, header ...string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/f.txt", nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		m.Handler(h).ServeHTTP(rec, req)
		return rec
	}
	file := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "f.txt", fixedTime, strings.NewReader("name: Zhang San, mobile "+phone+"\n"))
	})
	// Ranges: one that splits the number, several (multipart/byteranges).
	for _, rng := range []string{"bytes=0-27", "bytes=28-", "bytes=0-0,1-"} {
		if rec := serve(file, "Range", rng); strings.Contains(rec.Body.String(), phone) || strings.Contains(rec.Body.String(), "5678") && !strings.Contains(rec.Body.String(), "138****5678") {
			t.Errorf("Range %s: %d %q", rng, rec.Code, rec.Body.String())
		}
	}
	// No Content-Type: sniffed as net/http would, and masked.
	rec := serve(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "mobile "+phone+"\n") })
	if strings.Contains(rec.Body.String(), phone) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("no Content-Type: %q %q", rec.Header().Get("Content-Type"), rec.Body.String())
	}
	// Compressed text cannot be searched: nothing is sent.
	rec = serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		io.WriteString(gz, "mobile "+phone+"\n")
		gz.Close()
	})
	if zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes())); err == nil {
		if b, _ := io.ReadAll(zr); strings.Contains(string(b), phone) {
			t.Errorf("gzip'd text passed unmasked")
		}
	}
	if len(logged) == 0 {
		t.Error("the compressed body was not reported")
	}
}

func TestReviewStruct(t *testing.T) {
	type node struct {
		Phone    string `mask:"mobile"`
		Parent   *node
		Children []*node
	}
	// Parents pointing back: each pointer is walked once.
	root := &node{Phone: phone}
	for range 20 {
		root.Children = append(root.Children, &node{Phone: phone, Parent: root})
	}
	if err := mask.Struct(root, nil); err != nil || root.Children[19].Phone != "138****5678" {
		t.Fatalf("parents: %v", err)
	}
	// Structs held by value in a map cannot be changed: an error.
	byID := &struct{ ByID map[string]contact }{map[string]contact{"k": {phone}}}
	if err := mask.Struct(byID, nil); err == nil {
		t.Fatal("a map of tagged structs by value: no error")
	}
	// Too deep: an error, not data left as it was.
	deep := &node{Phone: phone}
	for n, i := deep, 0; i < 100; i++ {
		n.Children = []*node{{Phone: phone}}
		n = n.Children[0]
	}
	if err := mask.Struct(deep, nil); err == nil {
		t.Fatal("100 levels: no error")
	}
}

func TestReviewMisuse(t *testing.T) {
	if _, err := (&mask.Pseudonym{}).Apply(mask.Finding{Kind: mask.Mobile, Value: phone}); err == nil {
		t.Fatal("a Pseudonym without a key")
	}
	if mask.IDCheck("123") != 0 || mask.USCCCheck("9") != 0 {
		t.Fatal("check characters of short input")
	}
}

var fixedTime = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
