package license

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/format"
)

// The ISC licence as go-spew ships it, and the zero-clause BSD licence that
// differs from it only in dropping the notice requirement. Detectors have
// confused the two (wwhrd#40, go-license-detector#4).
const (
	isc = `ISC License

Copyright (c) 2012-2016 Dave Collins <dave@davec.name>

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted, provided that the above
copyright notice and this permission notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
`
	zeroBSD = `Copyright (C) 2026 by the authors

Permission to use, copy, modify, and/or distribute this software for any
purpose with or without fee is hereby granted.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
`
	mit = `Copyright (c) 2026 The Authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`
)

// bsd3 is the Go project's licence, as go.LICENSE files carry it.
const bsd3 = `Copyright 2009 The Go Authors.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are
met:

   * Redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer.
   * Redistributions in binary form must reproduce the above
copyright notice, this list of conditions and the following disclaimer
in the documentation and/or other materials provided with the
distribution.
   * Neither the name of Google LLC nor the names of its
contributors may be used to endorse or promote products derived from
this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
"AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR
A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
OWNER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
(INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
`

func moduleDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func scan(t *testing.T, files map[string]string) *format.ModuleLicense {
	t.Helper()
	r := &format.ModuleLicense{}
	if err := Scan(moduleDir(t, files), nil, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestScan(t *testing.T) {
	type scanCase struct {
		name      string
		files     map[string]string
		concluded string
		declared  []string
		notices   int
		unknown   int
	}
	cases := []scanCase{
		{"ISC is ISC", map[string]string{"LICENSE": isc}, "ISC", []string{"ISC"}, 0, 0},
		{"0BSD is 0BSD", map[string]string{"LICENSE": zeroBSD}, "0BSD", []string{"0BSD"}, 0, 0},
		{"MIT in LICENSE.txt", map[string]string{"LICENSE.txt": "MIT License\n\n" + mit}, "MIT", []string{"MIT"}, 0, 0},
		{"NOTICE is a notice, not a licence", map[string]string{"LICENSE": mit, "NOTICE": "Example\nCopyright 2026 Example Inc.\n"}, "MIT", []string{"MIT"}, 1, 0},
		{"PATENTS is a notice", map[string]string{"LICENSE": isc, "PATENTS": "Additional IP Rights Grant (Patents)\n"}, "ISC", []string{"ISC"}, 1, 0},
		{"two licence files combine", map[string]string{"LICENSE-MIT": mit, "LICENSE-ISC": isc}, "ISC AND MIT", []string{"ISC", "MIT"}, 0, 0},
		{"two licences in one file: no guess", map[string]string{"LICENSE": "Choose either licence.\n\n" + mit + "\n\n" + isc}, "NOASSERTION", []string{"ISC", "MIT"}, 0, 0},
		{"unknown text", map[string]string{"LICENSE": "You may use this software only on Tuesdays.\n"}, "NOASSERTION", nil, 0, 1},
		{"partly known", map[string]string{"LICENSE": mit + strings.Repeat("Additional terms apply to commercial users who must pay a fee. ", 40)}, "NOASSERTION", []string{"MIT"}, 0, 0},
		{"no licence file", map[string]string{"README.md": "hello"}, "NOASSERTION", nil, 0, 0},
		{"code named like a licence is not one", map[string]string{"license.go": "package license\n", "LICENSE": isc}, "ISC", []string{"ISC"}, 0, 0},
		{"REUSE LICENSES directory", map[string]string{"LICENSES/MIT.txt": mit, "LICENSES/ISC.txt": isc}, "ISC AND MIT", []string{"ISC", "MIT"}, 0, 0},
	}
	// containerd's LICENSE: Apache-2.0, then its appendix, which
	// licensecheck matches as Apache-2.0 a second time.
	apache, err := os.ReadFile("testdata/known/Apache-2.0+Apache-2.0__github.com_containerd_containerd_api_LICENSE.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, []scanCase{
		{"one licence twice in one file is one licence", map[string]string{"LICENSE": string(apache)}, "Apache-2.0", []string{"Apache-2.0"}, 0, 0},
		{"one licence in two files: two pieces of evidence, one licence", map[string]string{"LICENSE": mit, "LICENSE.txt": mit}, "MIT", []string{"MIT", "MIT"}, 0, 0},
		{"go.LICENSE beside LICENSE", map[string]string{"LICENSE": mit, "go.LICENSE": bsd3}, "BSD-3-Clause AND MIT", []string{"MIT", "BSD-3-Clause"}, 0, 0},
		{"declared sorted by file, then licence", map[string]string{"LICENSE-MIT": mit, "LICENSE-APACHE": string(apache), "COPYING": isc}, "Apache-2.0 AND ISC AND MIT", []string{"ISC", "Apache-2.0", "MIT"}, 0, 0},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := scan(t, c.files)
			if r.Concluded != c.concluded {
				t.Errorf("concluded %q, want %q (declared %+v)", r.Concluded, c.concluded, r.Declared)
			}
			var ids []string
			for _, m := range r.Declared {
				ids = append(ids, m.ID)
			}
			if strings.Join(ids, ",") != strings.Join(c.declared, ",") {
				t.Errorf("declared %v, want %v", ids, c.declared)
			}
			if len(r.Notices) != c.notices || len(r.Unknown) != c.unknown {
				t.Errorf("notices %v, unknown %v", r.Notices, r.Unknown)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	results := []*format.ModuleLicense{
		{Module: "a", Version: "v1", Declared: []format.LicenseMatch{{ID: "MIT"}}, Concluded: "MIT"},
		{Module: "b", Version: "v2", Declared: []format.LicenseMatch{{ID: "AGPL-3.0"}}, Concluded: "AGPL-3.0"},
		{Module: "c", Version: "v3", Concluded: "NOASSERTION", Unknown: []string{"LICENSE"}},
		{Module: "d", Version: "v4", Declared: []format.LicenseMatch{{ID: "Apache-2.0"}, {ID: "GPL-2.0"}}, Concluded: "NOASSERTION"},
	}
	vs := Evaluate(config.LicensePolicy{Deny: []string{"AGPL-3.0-only", "AGPL-3.0-or-later", "GPL-2.0-only"}}, results)
	if len(vs) != 2 || vs[0].Subject != "b@v2" || vs[1].Subject != "d@v4" || !strings.Contains(vs[0].Message, "AGPL-3.0") || vs[0].Remedy == "" {
		t.Errorf("deny: %+v", vs)
	}
	vs = Evaluate(config.LicensePolicy{Allow: []string{"MIT", "Apache-2.0"}}, results)
	if len(vs) != 3 {
		t.Fatalf("allow: %+v", vs)
	}
	if !strings.Contains(vs[1].Message, "could not be determined") || !strings.Contains(vs[1].Message, "unrecognised licence text in LICENSE") {
		t.Errorf("unknown licence: %+v", vs[1])
	}
	if vs := Evaluate(config.LicensePolicy{}, results); len(vs) != 0 {
		t.Errorf("empty policy: %+v", vs)
	}
	// Two licences recognised in full in one file (go.yaml.in/yaml/v3:
	// MIT and Apache-2.0; OpenTelemetry: Apache-2.0 and BSD-3-Clause).
	both := []*format.ModuleLicense{
		{Module: "e", Version: "v5", Declared: []format.LicenseMatch{{ID: "Apache-2.0", Confidence: 85}, {ID: "MIT", Confidence: 85}}, Concluded: "NOASSERTION"},
		{Module: "f", Version: "v6", Declared: []format.LicenseMatch{{ID: "Apache-2.0", Confidence: 100}, {ID: "BSD-3-Clause", Confidence: 100}}, Concluded: "NOASSERTION"},
		{Module: "g", Version: "v7", Declared: []format.LicenseMatch{{ID: "CC0-1.0", Confidence: 71.6}, {ID: "MIT", Confidence: 71.6}}, Concluded: "NOASSERTION"},
	}
	vs = Evaluate(config.LicensePolicy{Allow: []string{"MIT", "Apache-2.0"}}, both)
	if len(vs) != 2 || vs[0].Subject != "f@v6" || !strings.Contains(vs[0].Message, "BSD-3-Clause is not on the allow list") ||
		vs[1].Subject != "g@v7" || !strings.Contains(vs[1].Message, "could not be determined") {
		t.Errorf("several licences in one file: %+v", vs)
	}
}

func TestSPDXID(t *testing.T) {
	for in, want := range map[string]string{"MIT": "MIT", "BSD-3-Clause": "BSD-3-Clause", "GooglePatentsFile": "LicenseRef-GooglePatentsFile", "Odd Name/1": "LicenseRef-Odd-Name-1"} {
		if got := SPDXID(in); got != want {
			t.Errorf("SPDXID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScanHugeLicenseFile: a licence file bigger than any real one (here
// sparse, 3 GiB) is left unclassified, not read into memory.
func TestScanHugeLicenseFile(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "LICENSE"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := &format.ModuleLicense{}
	if err := Scan(dir, nil, r); err != nil {
		t.Fatal(err)
	}
	if r.Concluded != "NOASSERTION" || len(r.Unknown) != 1 || r.Unknown[0] != "LICENSE" {
		t.Errorf("got concluded %q, unknown %q; want NOASSERTION and LICENSE unknown", r.Concluded, r.Unknown)
	}
}
