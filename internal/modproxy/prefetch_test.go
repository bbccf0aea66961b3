package modproxy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/internal/modstore"
)

// TestPrefetch: a go.mod fetched for a client starts the fetch of the
// go.mod files it requires (verified and stored like any other), one
// level deep; with prefetching off, only what the client asked for is
// stored.
func TestPrefetch(t *testing.T) {
	up := upstream(t)
	stored := func(p *testProxy, mod, version string) bool { return p.holds(mod, version, modstore.Mod) }

	p := startProxy(t, "", modproxy.Options{Upstream: up})
	if code, body := get(t, p.URL+"/github.com/spf13/cobra/@v/"+cobraVersion+".mod"); code != http.StatusOK || !strings.Contains(body, "github.com/spf13/pflag") {
		t.Fatalf("cobra's go.mod: %d %q", code, body)
	}
	required := [][2]string{
		{"github.com/spf13/pflag", "v1.0.9"}, {"github.com/cpuguy83/go-md2man/v2", "v2.0.6"},
		{"github.com/inconshreveable/mousetrap", "v1.1.0"}, {"go.yaml.in/yaml/v3", "v3.0.4"},
	}
	// The count goes up once a prefetch has stored its file and returned:
	// closing the proxy as soon as the files are stored could end a
	// prefetch between the two, and count it as failed.
	const fetchedFour = `hegui_proxy_prefetches_total{kind="mod",outcome="fetched"} 4`
	prefetches := func() string {
		_, body := get(t, p.URL+"/metrics")
		return grepLines(body, "hegui_proxy_prefetches_total{")
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && prefetches() != fetchedFour; time.Sleep(20 * time.Millisecond) {
	}
	p.Close() // stops prefetching; waits for fetches under way
	for _, m := range required {
		if !stored(p, m[0], m[1]) {
			t.Errorf("%s@%s's go.mod, which cobra requires, was not prefetched", m[0], m[1])
		}
	}
	rec, err := modstore.ReadRecord(t.Context(), p.Store, "github.com/spf13/pflag", "v1.0.9", modstore.Mod)
	if err == nil && (rec.Hash == "" || rec.VerifiedBy == "") {
		t.Errorf("a prefetched go.mod is stored unverified: %+v", rec)
	}
	if stored(p, "github.com/russross/blackfriday/v2", "v2.1.0") {
		t.Error("a prefetched go.mod prefetched its own requirements")
	}
	if got := prefetches(); got != fetchedFour {
		t.Errorf("metrics do not count 4 prefetches, all fetched:\n%s", got)
	}

	off := startProxy(t, "", modproxy.Options{Upstream: up, Prefetch: -1})
	get(t, off.URL+"/github.com/spf13/cobra/@v/"+cobraVersion+".mod")
	off.Close()
	if stored(off, "github.com/spf13/pflag", "v1.0.9") {
		t.Error("prefetching off, and pflag's go.mod was fetched anyway")
	}
}

// TestPrefetchZip: a client given the .info of a version whose go.mod the
// proxy holds starts the fetch of its zip (verified and stored like any
// other), as `go mod download` asks for every .info before the first zip;
// not for a version whose go.mod it does not hold, nor with prefetch-zips
// off, nor with prefetching off.
func TestPrefetchZip(t *testing.T) {
	up := upstream(t)
	ctx := context.Background()
	const mod, version = "github.com/inconshreveable/mousetrap", "v1.1.0"
	infoAfterMod := func(p *testProxy, withMod bool) {
		t.Helper()
		if withMod {
			if code, _ := get(t, p.URL+"/"+mod+"/@v/"+version+".mod"); code != http.StatusOK {
				t.Fatalf("go.mod: %d", code)
			}
		}
		if code, body := get(t, p.URL+"/"+mod+"/@v/"+version+".info"); code != http.StatusOK || !strings.Contains(body, version) {
			t.Fatalf(".info: %d %q", code, body)
		}
	}

	zipPrefetches := func(p *testProxy) string {
		_, body := get(t, p.URL+"/metrics")
		return grepLines(body, `hegui_proxy_prefetches_total{kind="zip"`)
	}
	const fetchedOne = `hegui_proxy_prefetches_total{kind="zip",outcome="fetched"} 1`

	p := startProxy(t, "", modproxy.Options{Upstream: up})
	infoAfterMod(p, true)
	// The count goes up once the prefetch has stored the zip.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && zipPrefetches(p) != fetchedOne; time.Sleep(20 * time.Millisecond) {
	}
	if got := zipPrefetches(p); got != fetchedOne {
		t.Fatalf("the zip of a version whose .info was asked for, its go.mod stored, was not prefetched once; metrics:\n%s", got)
	}
	rec, err := modstore.ReadRecord(ctx, p.Store, mod, version, modstore.Zip)
	if err != nil || rec.Hash == "" || rec.VerifiedBy == "" {
		t.Errorf("a prefetched zip is stored unverified: %+v %v", rec, err)
	}
	if code, _ := get(t, p.URL+"/"+mod+"/@v/"+version+".zip"); code != http.StatusOK {
		t.Errorf("the prefetched zip: %d", code)
	}
	infoAfterMod(p, false) // the zip is stored: nothing more to fetch
	p.Close()
	if got := zipPrefetches(p); got != fetchedOne {
		t.Errorf("the .info of a version whose zip is stored counted a prefetch:\n%s", got)
	}

	for _, c := range []struct {
		name    string
		opts    modproxy.Options
		withMod bool
	}{
		{"its go.mod not stored", modproxy.Options{Upstream: up}, false},
		{"prefetch-zips off", modproxy.Options{Upstream: up, NoZipPrefetch: true}, true},
		{"prefetching off", modproxy.Options{Upstream: up, Prefetch: -1}, true},
	} {
		q := startProxy(t, "", c.opts)
		infoAfterMod(q, c.withMod)
		// Close ends a prefetch under way; one started by mistake counts
		// as failed, if not as fetched.
		q.Close()
		if got := zipPrefetches(q); got != "" || q.holds(mod, version, modstore.Zip) {
			t.Errorf("%s: the zip was prefetched; metrics:\n%s", c.name, got)
		}
	}
}

// holds reports whether the proxy's store has a record of the module file.
func (p *testProxy) holds(mod, version, kind string) bool {
	_, err := modstore.ReadRecord(context.Background(), p.Store, mod, version, kind)
	return err == nil
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPrefetchConfig: proxy.yaml's prefetch is a count from 0 (none) to 64.
func TestPrefetchConfig(t *testing.T) {
	for _, bad := range []string{"prefetch: -1\n", "prefetch: 65\n", "prefetch: many\n", "prefetch-zips: maybe\n"} {
		if _, err := modproxy.ParseConfig([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, ok := range []string{"prefetch: 0\n", "prefetch: 16\n", "prefetch-zips: false\n", "upstream: https://proxy.golang.org\n"} {
		if _, err := modproxy.ParseConfig([]byte(ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
