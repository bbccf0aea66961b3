package vulndb

import (
	"testing"
	"time"
)

func TestAffects(t *testing.T) {
	e := &Entry{ID: "GO-2099-0001", Affected: []Affected{
		{Package: Package{Name: "example.com/m"}, Ranges: []Range{{Type: "SEMVER", Events: []Event{
			{Introduced: "0"}, {Fixed: "1.2.3"}, {Introduced: "1.4.0"}, {Fixed: "1.4.2"},
		}}}},
		{Package: Package{Name: "example.com/all"}},
	}}
	for _, c := range []struct {
		module, version string
		want            bool
	}{
		{"example.com/m", "v0.1.0", true},
		{"example.com/m", "v1.2.2", true},
		{"example.com/m", "v1.2.3", false},
		{"example.com/m", "v1.3.9", false},
		{"example.com/m", "v1.4.0", true},
		{"example.com/m", "1.4.1", true},
		{"example.com/m", "v1.4.2", false},
		{"example.com/m", "v2.0.0", false},
		{"example.com/m", "v1.2.3-rc.1", true},
		{"example.com/other", "v0.1.0", false},
		{"example.com/all", "v9.9.9", true},
	} {
		if got := e.Affects(c.module, c.version); got != c.want {
			t.Errorf("Affects(%s, %s) = %v, want %v", c.module, c.version, got, c.want)
		}
	}
	now := time.Now()
	e.Withdrawn = &now
	if e.Affects("example.com/m", "v0.1.0") {
		t.Error("a withdrawn entry affects a version")
	}
}
