package mask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func maskJSONString(t *testing.T, in string, o JSONOptions) string {
	t.Helper()
	var out bytes.Buffer
	if err := MaskJSON(&out, strings.NewReader(in), o); err != nil {
		t.Fatalf("MaskJSON(%s): %v", in, err)
	}
	if !json.Valid(out.Bytes()) {
		t.Fatalf("MaskJSON wrote invalid JSON: %s", out.String())
	}
	return out.String()
}

func TestMaskJSON(t *testing.T) {
	in := `{"user": {"name": "张三", "mobile": 13812345678, "id": "11010519491231002X", "password": {"old": "a", "new": "b"}},
	  "orders": [{"card_no": "6222021001123456789", "note": "寄到 zhang.san@hegui.dev <b>&</b>", "qty": 2, "paid": true, "ref": null}],
	  "contact": ["13812345678", 15912345678], "line\n": "tab\tquote\"back\\slash\u0001"}`
	got := maskJSONString(t, in, JSONOptions{Paths: map[string]Kind{"user.id": IDCard}})
	want := `{"user":{"name":"张三","mobile":"138****5678","id":"110***********002X","password":"[REDACTED]"},` +
		`"orders":[{"card_no":"622202*********6789","note":"寄到 z********@hegui.dev <b>&</b>","qty":2,"paid":true,"ref":null}],` +
		`"contact":["138****5678","159****5678"],"line\n":"tab\tquote\"back\\slash\u0001"}`
	if got != want {
		t.Fatalf("MaskJSON:\n got %s\nwant %s", got, want)
	}
	// A path applies where it says, and only there.
	got = maskJSONString(t, `[{"code": "ABC123"}, {"other": {"code": "ABC123"}}]`, JSONOptions{Paths: map[string]Kind{"[].code": Passport}})
	if got != `[{"code":"A**123"},{"other":{"code":"ABC123"}}]` {
		t.Fatalf("paths: %s", got)
	}
}

func TestMaskJSONRefuses(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":}`, `[1,]`, `{"a":1}{"b":2}`, `{"a" 1}`, `nul`} {
		if err := MaskJSON(io.Discard, strings.NewReader(in), JSONOptions{}); err == nil {
			t.Errorf("MaskJSON(%q) succeeded", in)
		}
	}
	deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)
	if err := MaskJSON(io.Discard, strings.NewReader(deep), JSONOptions{}); err != ErrJSONDepth {
		t.Fatalf("2000 nested arrays: %v", err)
	}
}

// records is an endless JSON array of records with personal information,
// n of them, generated as it is read.
type records struct {
	n, i int
	buf  []byte
}

func (r *records) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		switch {
		case r.i == 0:
			r.buf = []byte("[")
		case r.i > r.n:
			return 0, io.EOF
		case r.i == r.n:
			r.buf = []byte("]")
		default:
			sep := ","
			if r.i == 1 {
				sep = ""
			}
			r.buf = fmt.Appendf(nil, `%s{"id":%d,"name":"用户%d","phone":"1381234%04d","note":"身份证 11010519491231002X，邮箱 u%d@example.cn","tags":["a","b"],"score":%d.5}`, sep, r.i, r.i, r.i%10000, r.i, r.i)
		}
		r.i++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestMaskJSONConstantMemory masks a 17 MiB document (HEGUI_MASK_JSON_RECORDS
// records: 120,000 by default, 6,600,000 for about 1 GiB) and checks the
// heap does not grow with it.
func TestMaskJSONConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("17 MiB of JSON")
	}
	n := 120_000
	if v := os.Getenv("HEGUI_MASK_JSON_RECORDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 120_000 {
			t.Fatalf("HEGUI_MASK_JSON_RECORDS=%q: give 120000 or more", v)
		}
	}
	start := time.Now()
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	counter := &countingWriter{}
	before := heap()
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err := MaskJSON(counter, &records{n: n}, JSONOptions{})
	close(done)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if counter.n < 16<<20 {
		t.Fatalf("only %d bytes written", counter.n)
	}
	t.Logf("%d records, %d MiB written in %v, heap in use %d MiB before, %d MiB at most", n, counter.n>>20, time.Since(start).Round(time.Millisecond), before>>20, peak>>20)
	if grown := int64(peak) - int64(before); grown > 16<<20 {
		t.Fatalf("the heap grew by %d MB while masking %d MB", grown>>20, counter.n>>20)
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// BenchmarkMaskJSON masks a generated document of records.
func BenchmarkMaskJSON(b *testing.B) {
	var doc bytes.Buffer
	io.Copy(&doc, &records{n: 10_000})
	b.SetBytes(int64(doc.Len()))
	for b.Loop() {
		if err := MaskJSON(io.Discard, bytes.NewReader(doc.Bytes()), JSONOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzMaskJSON checks MaskJSON against encoding/json: it accepts exactly
// the documents json.Valid accepts, always writes valid JSON, and, with
// nothing to mask, writes the same document.
func FuzzMaskJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":"b","n":-1.5e+3,"t":true,"f":false,"z":null,"arr":[1,[],{}]}`,
		`"\u00e9\ud83d\ude00\n\"\\\/"`, `"\ud800"`, `[1,2`, `{"password":{"x":[1,2]}}`, `01`, `1.`, `-`, "\"\xff\"",
		`{"phone":13812345678,"note":"身份证11010519491231002X"}`, ` [ ] `, `{"a":1,}`,
	} {
		f.Add(s)
	}
	nothing := &Redactor{Scanner: NewScanner(WithThreshold(2))}
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		err := MaskJSON(&out, strings.NewReader(in), JSONOptions{})
		valid := json.Valid([]byte(in))
		if valid != (err == nil) {
			if err == ErrJSONDepth {
				return
			}
			t.Fatalf("json.Valid = %v, MaskJSON: %v, on %q", valid, err, in)
		}
		if err != nil {
			return
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("MaskJSON(%q) wrote invalid JSON %q", in, out.String())
		}
		out.Reset()
		if err := MaskJSON(&out, strings.NewReader(in), JSONOptions{Redactor: nothing, Keys: map[string]Kind{}, Secrets: []string{}}); err != nil {
			t.Fatal(err)
		}
		var a, b any
		da := json.NewDecoder(strings.NewReader(in))
		da.UseNumber()
		db := json.NewDecoder(&out)
		db.UseNumber()
		if da.Decode(&a) != nil || db.Decode(&b) != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("with nothing to mask, %q became %q", in, out.String())
		}
	})
}
