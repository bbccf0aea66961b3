package compliance

import (
	"fmt"

	"hegui.dev/hegui/internal/format"
)

// Evidence is what a delivery shows, as the rules read it. The report
// package fills it from report.json and the files of the delivery, so
// that a report re-rendered later from the delivery directory reaches the
// same verdicts.
type Evidence struct {
	// Digest returns "sha256:HEX" of a file of the delivery, or "" when
	// the file is not there.
	Digest func(path string) string

	Signers []Signer
	// Binaries is the number of delivered binaries; SBOMs, per binary,
	// the SBOM files written for it.
	Binaries []Binary
	// Provenance is the signed provenance file ("" when there is none).
	Provenance string
	// VCS describes the source: tagged, clean, stamped.
	Tagged, Dirty, VCSStamped bool
	// Licenses counts modules and those without a concluded licence;
	// LicenseViolations counts licence policy violations.
	Licenses, LicensesUnknown, LicenseViolations int
	// Vuln is the vulnerability scan ("" Status when none ran).
	Vuln VulnEvidence
	// SAST is the static analysis.
	SAST SASTEvidence
	// PolicyMode is enforce or warn; Violations counts all violations.
	PolicyMode string
	Violations int
	// CryptoInventory is set when the report carries one.
	CryptoInventory bool
	// AuditLogProof is the transparency-log proof file ("" when none).
	AuditLogProof string
	// RuntimeLinked maps each runtime package (format.RuntimeCapabilities)
	// to the binaries that link it.
	RuntimeLinked map[string][]string
}

// Signer is one key that signs the delivery.
type Signer struct {
	Algorithm   string // sm2, ecdsa-p256, ed25519
	Role        string // primary, co-signer
	Chain       string // the certificate chain file ("" when none)
	Development bool
}

// Binary is one delivered binary and its evidence.
type Binary struct {
	Path          string
	SBOMs         []string
	Reproducible  string // identical, different, skipped
	HardeningFail int
	HardeningWarn int
}

// VulnEvidence is the vulnerability scan's evidence.
type VulnEvidence struct {
	Status string // scanned, skipped
	Reason string
	// AgeDays is the database's age at the scan; MaxAgeDays the policy's limit.
	AgeDays, MaxAgeDays float64
	// AgeUnknown is set for a database whose entries carry no date: it
	// counts as too old.
	AgeUnknown bool
	// Precise is false when some scan fell back from a call graph.
	Precise bool
	// Reachable counts reachable findings not accepted by the policy;
	// Accepted those accepted by an ignore rule.
	Reachable, Accepted, Findings int
	Files                         []string // vulns.json, vulns.sarif, vex.openvex.json
	VEX                           string
}

// SASTEvidence is the static analysis's evidence.
type SASTEvidence struct {
	Status     string
	Gating     int // unsuppressed findings at or above the policy's severity
	Suppressed int
	Findings   int
	Files      []string
}

// rule decides from the evidence.
type rule func(e *Evidence) format.RuleResult

// rules are the evidence rules catalogs may name (docs/compliance.md
// describes each).
var rules = map[string]rule{
	"manifest":                 ruleManifest,
	"signatures":               ruleSignatures,
	"certificate-chain":        ruleCertificateChain,
	"national-crypto":          ruleNationalCrypto,
	"crypto-inventory":         ruleCryptoInventory,
	"sbom":                     ruleSBOM,
	"provenance":               ruleProvenance,
	"reproducible":             ruleReproducible,
	"hardening":                ruleHardening,
	"version-control":          ruleVersionControl,
	"licenses":                 ruleLicenses,
	"vulnerability-scan":       ruleVulnScan,
	"vulnerabilities-resolved": ruleVulnsResolved,
	"vex":                      ruleVEX,
	"static-analysis":          ruleStaticAnalysis,
	"policy-gate":              rulePolicyGate,
	"audit-log":                ruleAuditLog,
}

// RuleIDs lists the rules, for documentation and checks.
func RuleIDs() []string {
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	return ids
}

func result(status, en, zh string, e *Evidence, files ...string) format.RuleResult {
	r := format.RuleResult{Status: status, Detail: format.Text{EN: en, ZH: zh}, Evidence: []format.Citation{}}
	for _, f := range files {
		if f == "" {
			continue
		}
		r.Evidence = append(r.Evidence, format.Citation{File: f, Digest: e.Digest(f)})
	}
	return r
}

// The manifest is written after the report (it signs it), so the report
// cites it without a digest; hegui verify checks it.

func ruleManifest(e *Evidence) format.RuleResult {
	return result(format.Evidenced,
		"manifest.json lists every file with its size, SHA-256 and SM3 and is signed; SHA256SUMS and SM3SUMS repeat the digests",
		"manifest.json 列出每个文件的大小、SHA-256 与 SM3 摘要并已签名；SHA256SUMS 和 SM3SUMS 给出同样的摘要",
		e, format.ManifestFile, format.SHA256SumsFile, format.SM3SumsFile)
}

func primary(e *Evidence) *Signer {
	for i := range e.Signers {
		if e.Signers[i].Role == "primary" {
			return &e.Signers[i]
		}
	}
	return nil
}

func ruleSignatures(e *Evidence) format.RuleResult {
	p := primary(e)
	switch {
	case p == nil:
		return result(format.NotEvidenced, "the delivery is not signed", "交付物未签名", e)
	case p.Development:
		return result(format.Partial,
			"signed, but with a development key: the signature shows the files are unaltered, not who made them",
			"已签名，但使用的是开发密钥：只能证明文件未被改动，不能证明由谁制作", e, format.ManifestFile)
	}
	return result(format.Evidenced,
		fmt.Sprintf("the manifest and the provenance are signed with a %s release key (%d signer(s))", p.Algorithm, len(e.Signers)),
		fmt.Sprintf("清单和来源证明已用 %s 发布密钥签名（共 %d 个签名者）", p.Algorithm, len(e.Signers)), e, format.ManifestFile, e.Provenance)
}

func ruleCertificateChain(e *Evidence) format.RuleResult {
	p := primary(e)
	if p == nil || p.Chain == "" {
		return result(format.NotEvidenced,
			"the signer has no certificate: configure signing.certificate to bind the key to an identity",
			"签名者没有证书：请配置 signing.certificate，将密钥与身份绑定", e)
	}
	return result(format.Evidenced, "the primary signer's code-signing certificate chain is in the delivery",
		"交付物中包含主签名者的代码签名证书链", e, p.Chain)
}

func ruleNationalCrypto(e *Evidence) format.RuleResult {
	p := primary(e)
	sm2 := false
	for _, s := range e.Signers {
		sm2 = sm2 || s.Algorithm == "sm2"
	}
	switch {
	case p != nil && p.Algorithm == "sm2":
		return result(format.Evidenced,
			"the primary signature is SM2 with SM3 (GB/T 32918, GB/T 32905) and every file has an SM3 digest",
			"主签名采用 SM2/SM3（GB/T 32918、GB/T 32905），每个文件都有 SM3 摘要", e, format.ManifestFile, format.SM3SumsFile)
	case sm2:
		return result(format.Partial, "an SM2 co-signature and SM3 digests are present, but the primary signature is international",
			"有 SM2 联合签名和 SM3 摘要，但主签名采用国际算法", e, format.ManifestFile, format.SM3SumsFile)
	}
	return result(format.Partial, "every file has an SM3 digest, but no signature uses SM2",
		"每个文件都有 SM3 摘要，但没有使用 SM2 的签名", e, format.SM3SumsFile)
}

func ruleCryptoInventory(e *Evidence) format.RuleResult {
	if !e.CryptoInventory {
		return result(format.NotEvidenced, "no cryptographic inventory", "没有密码清单", e)
	}
	return result(format.Evidenced,
		"the cryptographic inventory lists the algorithms, keys and certificates that protect the delivery and the algorithms linked into each binary",
		"密码清单列出保护交付物的算法、密钥和证书，以及每个二进制文件链接的算法", e, format.CBOMFile, format.ReportJSONFile)
}

func ruleSBOM(e *Evidence) format.RuleResult {
	var files []string
	missing := 0
	for _, b := range e.Binaries {
		if len(b.SBOMs) < 2 {
			missing++
		}
		files = append(files, b.SBOMs...)
	}
	switch {
	case len(e.Binaries) == 0:
		return result(format.NotEvidenced, "no binaries, so no SBOMs", "没有二进制文件，也就没有 SBOM", e)
	case missing > 0:
		return result(format.Partial, fmt.Sprintf("%d of %d binaries lack an SPDX or CycloneDX SBOM", missing, len(e.Binaries)),
			fmt.Sprintf("%d/%d 个二进制文件缺少 SPDX 或 CycloneDX SBOM", missing, len(e.Binaries)), e, files...)
	}
	return result(format.Evidenced,
		fmt.Sprintf("each of the %d binaries has an SPDX 2.3 and a CycloneDX 1.6 SBOM of the modules linked into it, with versions and hashes", len(e.Binaries)),
		fmt.Sprintf("%d 个二进制文件各有 SPDX 2.3 和 CycloneDX 1.6 SBOM，列出其链接的模块及版本和哈希", len(e.Binaries)), e, files...)
}

func ruleProvenance(e *Evidence) format.RuleResult {
	p := primary(e)
	switch {
	case e.Provenance == "":
		return result(format.NotEvidenced, "no build provenance", "没有构建来源证明", e)
	case p != nil && p.Development:
		return result(format.Partial, "in-toto/SLSA v1 provenance is included, signed with a development key",
			"包含 in-toto/SLSA v1 来源证明，但用开发密钥签名", e, e.Provenance)
	}
	return result(format.Evidenced, "signed in-toto Statement v1 with SLSA Provenance v1 (build parameters, resolved dependencies with digests)",
		"已签名的 in-toto Statement v1 / SLSA Provenance v1（构建参数、带摘要的依赖）", e, e.Provenance)
}

func ruleReproducible(e *Evidence) format.RuleResult {
	identical, different, skipped := 0, 0, 0
	for _, b := range e.Binaries {
		switch b.Reproducible {
		case "identical":
			identical++
		case "different":
			different++
		default:
			skipped++
		}
	}
	n := len(e.Binaries)
	switch {
	case n > 0 && identical == n:
		return result(format.Evidenced, fmt.Sprintf("all %d binaries were built twice, independently, with identical SHA-256", n),
			fmt.Sprintf("全部 %d 个二进制文件经两次独立构建，SHA-256 一致", n), e, format.ReportJSONFile)
	case identical > 0:
		return result(format.Partial, fmt.Sprintf("%d of %d binaries reproduced; %d differ, %d not checked", identical, n, different, skipped),
			fmt.Sprintf("%d/%d 个二进制文件可复现；%d 个不一致，%d 个未检查", identical, n, different, skipped), e, format.ReportJSONFile)
	}
	return result(format.NotEvidenced, "reproducibility was not shown", "未证明可复现构建", e)
}

func ruleHardening(e *Evidence) format.RuleResult {
	fail, warn := 0, 0
	for _, b := range e.Binaries {
		if b.HardeningFail > 0 {
			fail++
		} else if b.HardeningWarn > 0 {
			warn++
		}
	}
	n := len(e.Binaries)
	switch {
	case n == 0:
		return result(format.NotEvidenced, "no binaries were checked", "没有检查二进制文件", e)
	case fail == 0 && warn == 0:
		return result(format.Evidenced, fmt.Sprintf("all %d binaries pass the hardening checks", n),
			fmt.Sprintf("全部 %d 个二进制文件通过加固检查", n), e, format.ReportJSONFile)
	}
	return result(format.Partial, fmt.Sprintf("%d of %d binaries fail a hardening check, %d have warnings", fail, n, warn),
		fmt.Sprintf("%d/%d 个二进制文件未通过加固检查，%d 个有警告", fail, n, warn), e, format.ReportJSONFile)
}

func ruleVersionControl(e *Evidence) format.RuleResult {
	switch {
	case !e.VCSStamped:
		return result(format.NotEvidenced, "built outside version control", "不是从版本控制中构建的", e)
	case e.Tagged && !e.Dirty:
		return result(format.Evidenced, "built from a tagged, clean commit; the binaries carry the VCS stamp",
			"从带标签的干净提交构建；二进制文件带有版本控制信息", e, e.Provenance)
	}
	return result(format.Partial, "built from version control, but from an untagged snapshot or a tree with uncommitted changes",
		"从版本控制构建，但不是带标签的发布提交，或工作区有未提交的改动", e, e.Provenance)
}

func ruleLicenses(e *Evidence) format.RuleResult {
	switch {
	case e.LicenseViolations > 0:
		return result(format.NotEvidenced, fmt.Sprintf("%d licence policy violations", e.LicenseViolations),
			fmt.Sprintf("%d 项许可证策略违规", e.LicenseViolations), e, format.ReportJSONFile)
	case e.LicensesUnknown > 0:
		return result(format.Partial, fmt.Sprintf("%d of %d modules have no concluded licence", e.LicensesUnknown, e.Licenses),
			fmt.Sprintf("%d/%d 个模块无法确定许可证", e.LicensesUnknown, e.Licenses), e, format.ReportJSONFile)
	}
	return result(format.Evidenced, fmt.Sprintf("the licences of all %d modules are determined and the licence policy passed", e.Licenses),
		fmt.Sprintf("全部 %d 个模块的许可证均已确定，且通过许可证策略", e.Licenses), e, format.ReportJSONFile)
}

func ruleVulnScan(e *Evidence) format.RuleResult {
	v := e.Vuln
	switch {
	case v.Status != "scanned":
		return result(format.NotEvidenced, "no vulnerability scan: "+v.Reason, "未做漏洞扫描："+v.Reason, e)
	case v.AgeUnknown:
		return result(format.Partial, "scanned against a database of unknown age (its entries carry no modified date), which counts as too old",
			"扫描所用漏洞库日期未知（条目无修改日期），视为过旧", e, v.Files...)
	case v.MaxAgeDays > 0 && v.AgeDays > v.MaxAgeDays:
		return result(format.Partial, fmt.Sprintf("scanned against a database %.0f days old (the policy allows %.0f)", v.AgeDays, v.MaxAgeDays),
			fmt.Sprintf("扫描所用漏洞库已有 %.0f 天（策略允许 %.0f 天）", v.AgeDays, v.MaxAgeDays), e, v.Files...)
	case !v.Precise:
		return result(format.Partial, "scanned, partly without a call graph (memory budget): some findings have binary-symbol precision",
			"已扫描，但因内存预算部分未使用调用图：部分结果仅为二进制符号精度", e, v.Files...)
	}
	return result(format.Evidenced, fmt.Sprintf("govulncheck call-graph scan against a database %.0f days old: %d known vulnerabilities examined", v.AgeDays, v.Findings),
		fmt.Sprintf("使用 %.0f 天内的漏洞库进行 govulncheck 调用图扫描：共检查 %d 个已知漏洞", v.AgeDays, v.Findings), e, v.Files...)
}

func ruleVulnsResolved(e *Evidence) format.RuleResult {
	v := e.Vuln
	switch {
	case v.Status != "scanned":
		return result(format.NotEvidenced, "unknown: no vulnerability scan", "未知：未做漏洞扫描", e)
	case v.Reachable > 0:
		return result(format.NotEvidenced, fmt.Sprintf("%d reachable known vulnerabilities remain", v.Reachable),
			fmt.Sprintf("仍有 %d 个可达的已知漏洞", v.Reachable), e, v.Files...)
	case v.Accepted > 0:
		return result(format.Partial, fmt.Sprintf("%d reachable vulnerabilities are accepted by policy ignore rules (with reasons and expiry dates)", v.Accepted),
			fmt.Sprintf("%d 个可达漏洞已按策略豁免（附理由和到期日）", v.Accepted), e, v.Files...)
	}
	return result(format.Evidenced, "no reachable known vulnerability; unreachable ones are stated in the VEX document",
		"没有可达的已知漏洞；不可达的漏洞已在 VEX 文档中说明", e, v.Files...)
}

func ruleVEX(e *Evidence) format.RuleResult {
	if e.Vuln.VEX == "" {
		return result(format.NotEvidenced, "no VEX document", "没有 VEX 文档", e)
	}
	return result(format.Evidenced, "an OpenVEX document states affected / not affected, with justification, for every finding",
		"OpenVEX 文档对每个发现说明是否受影响及理由", e, e.Vuln.VEX)
}

func ruleStaticAnalysis(e *Evidence) format.RuleResult {
	s := e.SAST
	switch {
	case s.Status != "scanned":
		return result(format.NotEvidenced, "no static analysis", "未做静态分析", e)
	case s.Gating > 0:
		return result(format.Partial, fmt.Sprintf("go vet and gosec ran; %d unsuppressed findings reach the policy's severity", s.Gating),
			fmt.Sprintf("已运行 go vet 和 gosec；%d 个未抑制的发现达到策略严重级别", s.Gating), e, s.Files...)
	case s.Suppressed > 0:
		return result(format.Partial, fmt.Sprintf("go vet and gosec ran; no finding reaches the gate, %d are suppressed in the source (with their reasons in sast.sarif)", s.Suppressed),
			fmt.Sprintf("已运行 go vet 和 gosec；无发现达到门限，%d 个在源码中被抑制（理由见 sast.sarif）", s.Suppressed), e, s.Files...)
	}
	return result(format.Evidenced, fmt.Sprintf("go vet and gosec ran with CWE mapping; %d findings, none reaching the policy's severity", s.Findings),
		fmt.Sprintf("已运行 go vet 和 gosec（含 CWE 映射）；共 %d 个发现，均未达到策略严重级别", s.Findings), e, s.Files...)
}

func rulePolicyGate(e *Evidence) format.RuleResult {
	switch {
	case e.Violations > 0:
		// A violation is a violation whether or not the policy stopped the
		// delivery for it: warn mode must not score better than enforce.
		return result(format.NotEvidenced, fmt.Sprintf("the policy found %d violations (%s mode)", e.Violations, e.PolicyMode),
			fmt.Sprintf("策略检查发现 %d 项违规（%s 模式）", e.Violations, e.PolicyMode), e, format.ReportJSONFile)
	case e.PolicyMode != "enforce":
		return result(format.Partial, "the policy ran in warn mode: no violations, but none would have stopped the delivery",
			"策略以告警模式运行：无违规，但违规不会阻止交付", e, format.ReportJSONFile)
	}
	return result(format.Evidenced, "every gate of the delivery's policy (licences, vulnerabilities, static analysis, hardening, reproducibility) passed in enforce mode",
		"交付策略的全部门禁（许可证、漏洞、静态分析、加固、可复现）在强制模式下通过", e, format.ReportJSONFile)
}

func ruleAuditLog(e *Evidence) format.RuleResult {
	if e.AuditLogProof == "" {
		return result(format.NotEvidenced, "no transparency-log proof in this delivery (configure an audit log)",
			"交付物中没有透明日志证明（需配置审计日志）", e)
	}
	return result(format.Evidenced, "the release event is in a transparency log, with an inclusion proof and a signed checkpoint",
		"发布事件已写入透明日志，附包含证明和签名检查点", e, e.AuditLogProof)
}
