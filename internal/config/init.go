package config

import (
	"fmt"
	"strings"
)

// Template returns a commented hegui.yaml for a module whose main packages
// are mains (relative paths such as "." or "./cmd/app"). Every setting is
// shown with its default, so the file documents itself.
func Template(project string, mains []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `# hegui.yaml: how "hegui deliver" builds, signs and checks this module.
# Schema: docs/config.md. Unknown keys are errors, so typos do not go unnoticed.
version: 1

project:
  name: %s

# One entry per main package. ldflags are templates: {{.Version}}, {{.Commit}},
# {{.ShortCommit}}, {{.Date}} (commit time, RFC 3339), {{.Os}}, {{.Arch}}.
# hegui always adds -trimpath and -buildid= and stamps VCS information.
builds:
`, project)
	for _, m := range mains {
		fmt.Fprintf(&b, "  - main: %s\n", m)
	}
	b.WriteString(`    # binary: name            # default: the last element of main
    # ldflags: ["-s", "-w", "-X main.version={{.Version}}", "-X main.commit={{.Commit}}", "-X main.date={{.Date}}"]
    # tags: []
    # env: [CGO_ENABLED=0]       # cgo is off unless you turn it on

# GOOS/GOARCH pairs, optionally with a level: linux/amd64/v3, linux/arm64/v8.2.
# The default is the 信创 set: x86-64, ARM64 and LoongArch.
targets:
  - linux/amd64
  - linux/arm64
  - linux/loong64

reproducibility:
  check: true                  # build each target twice, in another directory and module cache, and compare

hardening:
  glibc-baseline: "2.28"       # cgo binaries must not need a newer glibc (Kylin V10, UOS 20, openEuler 20.03)

signing:
  # key: keyring:release       # FILE, keyring:NAME|ID or pkcs11:URI; unset: a development key, loudly
  # certificate: release.pem   # the signer's certificate chain, leaf first
  # password-file: release.pass
  # co-signers:
  #   - key: ecdsa.key         # an ECDSA P-256 co-signature also yields cosign-verifiable bundles
  #     password-env: HEGUI_COSIGN_PASSWORD

policy:
  licenses:
    allow: []                  # SPDX IDs; when set, anything else (or unknown) fails the delivery
    deny: [AGPL-3.0, AGPL-3.0-only, AGPL-3.0-or-later, SSPL-1.0]

archive:
  format: none                 # tar.gz: also write the delivery as one reproducible archive

output: dist
`)
	return []byte(b.String())
}
