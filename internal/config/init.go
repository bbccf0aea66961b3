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
  # supplier: Example Co., Ltd. # who makes the delivery's VEX statements; default: the signer certificate's subject

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

vulnerabilities:
  # database: /srv/hegui/vulndb # default $HEGUI_VULNDB, else ~/.cache/hegui/vulndb (hegui vulndb import/update)
  scan: symbol                 # symbol: follow calls; package: imports only; off
  memory-budget: 4GiB          # a bigger call-graph scan is split, or done on the binary, and says so

static-analysis:
  analyzers: all               # all (go vet + gosec), vet, security, off
  tests: false                 # include _test.go files
  exclude: []                  # rules not to run: G104, printf, ...

tests:                         # the module's own go test, recorded in tests.json
  enabled: true
  packages: [./...]
  race: true                   # with the race detector where the host has cgo and supports it
  short: true                  # -short: tests that need the network or take long can skip themselves
  timeout: 10m                 # per package's test binary (go test -timeout)
  tags: []
  flags: []                    # e.g. [-skip=TestIntegration, -p=1]; -run, -skip, -count, -cpu, -p, -parallel, ...

pii:                           # personal information in the module's own files (hegui pii scan), in pii.json
  scan: on                     # on, off
  exclude: []                  # paths or names not to read, e.g. [testdata/synthetic]; vendor/ and the output are never read

policy:
  mode: enforce                # enforce: violations fail the delivery; warn: report them only
  licenses:
    allow: []                  # SPDX IDs; when set, anything else (or unknown) fails the delivery
    deny: [AGPL-3.0, AGPL-3.0-only, AGPL-3.0-or-later, SSPL-1.0]
  vulnerabilities:
    fail-on: high              # reachable findings of this severity or more fail: critical, high, medium, low, any, none
    unknown-severity: high     # how to rate findings the database gives no score (all of the Go database's)
    database-max-age: 30d      # an older database is a warning, or a failure with database-too-old: fail
    database-too-old: warn
    no-scan: warn              # no database at all: warn or fail
    ignore: []                 # accepted findings, each with a reason and an expiry date:
    #  - id: GO-2022-1059      # OSV, CVE or GHSA id
    #    reason: "Accept-Language only comes from our own gateway"
    #    expires: 2027-06-30   # after this date the rule itself fails the delivery
  static-analysis:
    gate: warn                 # findings reaching fail-on (in shipped packages, at min-confidence): warn, fail, off
    fail-on: high              # unsuppressed findings in shipped packages of this severity or more fail: high, medium, low, none
    min-confidence: high       # gosec findings below this confidence are reported only: high, medium, low
    rules: []                  # rules that fail at any severity and confidence, e.g. [G101]
  hardening: fail              # failed hardening checks: fail, warn, off
  reproducibility: fail        # binaries whose second build differs: fail, warn, off
  tests: warn                  # failing tests (or test packages that do not build): warn, fail, off
  pii:
    gate: fail                 # personal information of the fail-on kinds in the module's files: fail, warn, off
    fail-on: [idcard, mobile, bankcard, passport, permit, iban, phone, plate]   # or all; a line marked pii:ignore is passed over

compliance:
  frameworks: []               # report's compliance matrix; empty: all (gbt22239-2019-l3, gbt39786-2021-l3, nist-ssdf-1.1, slsa-1.0-build, gdpr, pipl)

documents: []                  # documents the delivery carries and signs, each answering controls, e.g.
#  - path: SECURITY.md         #   relative to the module root
#    kind: security-policy     #   design, user-guide, operations, security-policy, coding-standard, other
#    controls: ["ssdf:RV.1.3"]

attestations: []               # statements you sign where no artefact can show a control's vendor part, e.g.
#  - control: "密评:8.4 h"
#    file: docs/statements/non-repudiation.md   # or statement: "..."

archive:
  format: none                 # tar.gz: also write the delivery as one reproducible archive

image:
  enabled: false               # true: an OCI image layout (image/) of the binary for every Linux target
  binary: ""                   # the binary it runs; empty: the only one
  ca-certificates: system      # this machine's CA bundle, a file in the module, or none
  user: 65532                  # never root
  args: []
  env: []
  ports: []                    # e.g. ["8080/tcp"]

audit-log:                     # record each delivery in a transparency log (hegui log serve)
  url: ""                      # e.g. https://audit.example.cn; empty: not recorded
  public-keys: ""              # the log's log.pub, checked against every checkpoint
  token-env: HEGUI_LOG_TOKEN   # variable holding the writer's bearer token

output: dist
`)
	return []byte(b.String())
}
