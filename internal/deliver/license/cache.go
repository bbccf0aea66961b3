package license

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/licensecheck"

	"hegui.dev/hegui/internal/atomicfile"
)

// classifierVersion keys the cache: a new licensecheck may classify
// differently, so its results go elsewhere.
const classifierVersion = "licensecheck-v0.3.1"

// The first licensecheck.Scan in a process compiles the licence patterns,
// which takes a second or more; the texts themselves take milliseconds.
// Licence files in the module cache never change (go.sum pins them), so
// results are cached on disk by the SHA-256 of the text, and later runs that
// meet only known texts never pay for the compilation.

var cacheDir = sync.OnceValue(func() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "hegui", classifierVersion)
})

// classify returns licensecheck's coverage of a licence text, from the
// cache when this exact text was classified before.
func classify(text []byte) licensecheck.Coverage {
	sum := sha256.Sum256(text)
	var path string
	if dir := cacheDir(); dir != "" {
		path = filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
		if data, err := os.ReadFile(path); err == nil {
			var cov licensecheck.Coverage
			if json.Unmarshal(data, &cov) == nil {
				return cov
			}
		}
	}
	cov := licensecheck.Scan(text)
	if path != "" {
		if data, err := json.Marshal(cov); err == nil && os.MkdirAll(filepath.Dir(path), 0o755) == nil {
			atomicfile.WriteFile(path, data, 0o644) // a cache: failing to write it costs time only
		}
	}
	return cov
}

// Prewarm compiles licensecheck's patterns in the background, so that a
// licence scan later in the same process does not wait for it.
func Prewarm() {
	go licensecheck.Scan([]byte("MIT License"))
}
