package format

import (
	"strings"
	"testing"
)

const valid = `{"schema":"hegui.dev/manifest/v1","project":"app","module":"example.com/app","version":"v1.0.0",
"signed":"2026-11-21T00:00:00Z",
"signers":[{"keyId":"` + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" + `","algorithm":"sm2","role":"primary","publicKey":"signers/0123456789abcdef.pub"}],
"files":[{"path":"bin/linux_amd64/app","size":1,"sha256":"aa","sm3":"bb"}]}`

func TestParse(t *testing.T) {
	m, err := ParseManifest([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if m.Project != "app" || len(m.Files) != 1 || m.Signers[0].Role != "primary" {
		t.Errorf("parsed %+v", m)
	}
	bad := map[string]string{
		"unknown field":         strings.Replace(valid, `"project"`, `"projekt"`, 1),
		"other schema":          strings.Replace(valid, "manifest/v1", "manifest/v9", 1),
		"escape":                strings.Replace(valid, "bin/linux_amd64/app", "../../etc/passwd", 1),
		"absolute":              strings.Replace(valid, "bin/linux_amd64/app", "/etc/passwd", 1),
		"unclean":               strings.Replace(valid, "bin/linux_amd64/app", "bin/../../x", 1),
		"key path":              strings.Replace(valid, "signers/0123456789abcdef.pub", "../k.pub", 1),
		"short key ID":          strings.Replace(valid, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "abc", 1),
		"no signer":             strings.Replace(valid, `"signers":[{`, `"signers":[],"x":[{`, 1),
		"duplicate file":        strings.Replace(valid, `"files":[{"path":"bin/linux_amd64/app","size":1,"sha256":"aa","sm3":"bb"}]`, `"files":[{"path":"a"},{"path":"a"}]`, 1),
		"not JSON":              "{",
		"duplicate path member": strings.Replace(valid, `"path":"bin/linux_amd64/app"`, `"path":"bin/linux_amd64/app","path":"SHA256SUMS"`, 1),
		"trailing data":         valid + `{"files":[]}`,
		"member in other case":  strings.Replace(valid, `"project"`, `"Project"`, 1),
		"NUL in a path":         strings.Replace(valid, "bin/linux_amd64/app", `bin/app\u0000.txt`, 1),
		"ESC in a path":         strings.Replace(valid, "bin/linux_amd64/app", `bin/\u001b[2Kapp`, 1),
		"backslash in a path":   strings.Replace(valid, "bin/linux_amd64/app", `bin\\app`, 1),
		"too many files":        strings.Replace(valid, `"files":[{"path":"bin/linux_amd64/app","size":1,"sha256":"aa","sm3":"bb"}]`, `"files":[`+strings.Repeat(`{},`, MaxManifestFiles)+`{}]`, 1),
	}
	for name, data := range bad {
		if _, err := ParseManifest([]byte(data)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// FuzzParse: a manifest is untrusted until its signature is checked.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(valid))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		for _, file := range m.Files {
			if CheckPath(file.Path) != nil {
				t.Fatalf("accepted path %q", file.Path)
			}
		}
	})
}
