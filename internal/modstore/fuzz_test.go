package modstore

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzParseRecord checks the record parser, which reads what is in the
// store: it never panics, and a record it accepts marshals to bytes that
// parse back to the same record.
func FuzzParseRecord(f *testing.F) {
	rec := &Record{
		Module: "golang.org/x/mod", Version: "v0.42.0", Kind: Zip,
		Size: 123456, SHA256: strings.Repeat("ab", 32),
		Hash: "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Source: SourceUpstream,
		VerifiedBy: "sum.golang.org", Stored: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
	}
	data, err := rec.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, rec.Module, rec.Version, rec.Kind)
	f.Add([]byte(`{"module":"example.com/m","version":"v1.0.0","kind":"info","size":0,"sha256":"`+strings.Repeat("00", 32)+`","source":"internal","stored":"2026-01-02T03:04:05+01:00"}`), "example.com/m", "v1.0.0", Info)
	f.Add([]byte(`{"module":"example.com/m","module":"example.com/n"}`), "example.com/m", "v1.0.0", Mod)
	f.Add([]byte(`{"Module":"example.com/m"}`), "example.com/m", "v1.0.0", Mod)
	f.Add([]byte("{\"module\": garbage\x00\xff"), "example.com/m", "v1.0.0", Zip)
	f.Add([]byte(""), "", "", "")
	f.Fuzz(func(t *testing.T, data []byte, module, version, kind string) {
		r, err := ParseRecord(data, module, version, kind)
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("record %q parses but does not marshal: %v", data, err)
		}
		r2, err := ParseRecord(out, module, version, kind)
		if err != nil {
			t.Fatalf("record %q parses, marshals to %q, which does not parse: %v", data, out, err)
		}
		if !sameRecord(r, r2) {
			t.Errorf("record %q parses to %+v, marshals to %q, which parses to %+v", data, r, out, r2)
		}
		if out2, err := r2.Marshal(); err != nil || !bytes.Equal(out, out2) {
			t.Errorf("record %q marshals to %q, then to %q (%v)", data, out, out2, err)
		}
	})
}

// sameRecord compares records, the stored time as an instant: its zone
// is parsed into a new *time.Location each time.
func sameRecord(a, b *Record) bool {
	x, y := *a, *b
	if !x.Stored.Equal(y.Stored) {
		return false
	}
	x.Stored, y.Stored = time.Time{}, time.Time{}
	return x == y
}

// keyKinds are the kinds ModuleKey is documented to take.
var keyKinds = []string{Info, Mod, Zip, SignatureExt, LogProofExt}

// FuzzKeys checks that the key builders never make a key that could leave
// a store's root or name a hidden (temporary) file, whatever module path,
// version or checksum-database file they are given, and that checkKey
// lets no such key through.
//
// A ".." inside an element ("a..b") is a valid module path element and
// harmless; an element that is "..", or starts with ".", is not.
func FuzzKeys(f *testing.F) {
	f.Add("golang.org/x/mod", "v0.42.0", uint8(2), "sum.golang.org", "lookup/golang.org/x/mod@v0.42.0", "modules/golang.org/x/mod/@v/v0.42.0.zip")
	f.Add("github.com/BurntSushi/toml", "v1.4.0", uint8(0), "sum.golang.org", "tile/8/0/x001/234.p/5", "sumdb/sum.golang.org/latest")
	f.Add("example.com/a..b/m", "v1.0.0-rc.1", uint8(3), "other.db", "latest", "quarantine/x/modules/m")
	f.Add("example.com/../m", "v1.0.0", uint8(1), "..", "lookup/../../etc/passwd", "../etc/passwd")
	f.Add("example.com/.m", "v1.0.0+incompatible", uint8(4), ".hidden", "tile/./x", "/etc/passwd")
	f.Add("gopkg.in/yaml.v3", "v3.0.1", uint8(0), "sum.golang.org", "lookup/x@v1\x00", "a//b")
	f.Fuzz(func(t *testing.T, path, version string, kindIndex uint8, name, file, key string) {
		kind := keyKinds[int(kindIndex)%len(keyKinds)]
		if k, err := VersionsKey(path); err == nil {
			// A prefix: it ends in "/".
			checkSafeKey(t, "VersionsKey", strings.TrimSuffix(k, "/"))
		}
		if k, err := ModuleKey(path, version, kind); err == nil {
			checkSafeKey(t, "ModuleKey", k)
			checkSafeKey(t, "QuarantineKey", QuarantineKey(k, time.Unix(int64(kindIndex)<<40, 0)))
			if rk, err := RecordKey(path, version, kind); err != nil || rk != k+RecordSuffix {
				t.Errorf("RecordKey(%q, %q, %q) = %q, %v; want %q", path, version, kind, rk, err, k+RecordSuffix)
			}
			if v, kd, ok := ParseVersionName(k[strings.LastIndexByte(k, '/')+1:]); !ok || v != version || kd != kind {
				t.Errorf("ParseVersionName of %q = %q, %q, %v; want %q, %q", k, v, kd, ok, version, kind)
			}
		}
		if k, err := SumDBKey(name, file); err == nil {
			checkSafeKey(t, "SumDBKey", k)
		}
		if checkKey(key) == nil {
			checkSafeKey(t, "checkKey", key)
		}
	})
}

// checkSafeKey fails the test if key, made or accepted by fn, could leave
// the store's root or name a hidden file, or is one checkKey refuses.
func checkSafeKey(t *testing.T, fn, key string) {
	t.Helper()
	if key == "" || strings.HasPrefix(key, "/") {
		t.Errorf("%s: key %q is empty or absolute", fn, key)
	}
	for elem := range strings.SplitSeq(key, "/") {
		if elem == "" || elem == ".." || strings.HasPrefix(elem, ".") || strings.ContainsAny(elem, "\x00\\") {
			t.Errorf("%s: key %q has the element %q", fn, key, elem)
		}
	}
	if err := checkKey(key); err != nil {
		t.Errorf("%s: key %q is refused by checkKey: %v", fn, key, err)
	}
}
