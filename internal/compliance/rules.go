package compliance

import (
	"fmt"
	"strings"

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
	// Tests is the module's own tests.
	Tests TestsEvidence
	// PII is the personal information found in the module's files.
	PII PIIEvidence
	// PolicyMode is enforce or warn; Violations counts all violations;
	// GatesOff names the policy's gates that are off (not judged).
	PolicyMode string
	Violations int
	GatesOff   []string
	// CryptoInventory is set when the report carries one.
	CryptoInventory bool
	// BinaryCrypto is, per delivered binary, the algorithms linked into
	// it by class (from the cryptographic inventory).
	BinaryCrypto []BinaryCrypto
	// Builder is the provenance's builder id.
	Builder string
	// ReleaseLogProof is the transparency-log proof that the release
	// event is logged ("" when none).
	ReleaseLogProof string
	// Documents are the vendor's documents the delivery carries;
	// Attestations maps "FRAMEWORK:CONTROL" to the signed vendor
	// statement's file.
	Documents    []format.Document
	Attestations map[string]string
	// RuntimeLinked maps each runtime package (format.RuntimeCapabilities)
	// to the binaries that link it.
	RuntimeLinked map[string][]string
	// Operator is the evidence the operator attached to the report
	// (hegui report --evidence): shown beside operator parts, never a
	// vendor rule's evidence.
	Operator []format.OperatorEvidence
}

// Signer is one key that signs the delivery.
type Signer struct {
	Algorithm   string // sm2, ecdsa-p256, ed25519
	Role        string // primary, co-signer
	Chain       string // the certificate chain file ("" when none)
	Development bool
	// Token is set when the key is held by a PKCS#11 token (a
	// cryptographic module) rather than a key file or the keyring.
	Token bool
}

// BinaryCrypto is the algorithms one binary links, by class.
type BinaryCrypto struct {
	Path                            string
	National, International, Legacy []string
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

// TestsEvidence is the module's own tests, as the tests stage ran them.
type TestsEvidence struct {
	Status string // ran, skipped
	Reason string // why they did not run
	// Packages counts the packages that ran tests, FailedPackages those
	// whose tests failed (a test failed, or the test binary did not build,
	// crashed or did not finish).
	Packages, FailedPackages       int
	Tests, Passed, Failed, Skipped int
	FuzzTargets                    int
	// Race is set when the race detector was on; RaceReason says why not.
	Race       bool
	RaceReason string
	// Coverage is the statement coverage in percent (nil when none was
	// recorded).
	Coverage *float64
	Files    []string // tests.json
}

// PIIEvidence is the pii stage's evidence.
type PIIEvidence struct {
	Status string // scanned, skipped
	Reason string // why it did not scan
	// FilesRead counts the files read; Total the findings, Gating those
	// of the kinds the policy fails on (FailOn).
	FilesRead, Total, Gating int
	// Skipped counts the files not read (binary, too large, unreadable).
	Skipped int
	FailOn  []string
	// GatingKinds names the kinds of the gating findings.
	GatingKinds []string
	Files       []string // pii.json
}

// rule decides from the evidence whether it holds; a gap says what the
// vendor can do about it.
type rule func(e *Evidence) format.RuleResult

// rules are the evidence rules catalogs may name (docs/compliance.md
// describes each).
var rules = map[string]rule{
	"manifest":                 ruleManifest,
	"signatures":               ruleSignatures,
	"certificate-chain":        ruleCertificateChain,
	"key-in-crypto-module":     ruleKeyInCryptoModule,
	"national-crypto":          ruleNationalCrypto,
	"binary-crypto":            ruleBinaryCrypto,
	"crypto-inventory":         ruleCryptoInventory,
	"sbom":                     ruleSBOM,
	"provenance":               ruleProvenance,
	"provenance-exists":        ruleProvenanceExists,
	"hosted-build":             ruleHostedBuild,
	"reproducible":             ruleReproducible,
	"hardening":                ruleHardening,
	"version-control":          ruleVersionControl,
	"licenses":                 ruleLicenses,
	"vulnerability-scan":       ruleVulnScan,
	"vulnerabilities-resolved": ruleVulnsResolved,
	"vex":                      ruleVEX,
	"static-analysis":          ruleStaticAnalysis,
	"security-tests":           ruleSecurityTests,
	"no-personal-data":         ruleNoPersonalData,
	"policy-gate":              rulePolicyGate,
	"release-logged":           ruleReleaseLogged,
}

// RuleIDs lists the rules, for documentation and checks.
func RuleIDs() []string {
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	return ids
}

// holds is a rule that holds, citing files of the delivery.
func holds(en, zh string, e *Evidence, files ...string) format.RuleResult {
	r := format.RuleResult{Status: format.Evidenced, Detail: format.Text{EN: en, ZH: zh}, Evidence: []format.Citation{}}
	for _, f := range files {
		if f == "" {
			continue
		}
		r.Evidence = append(r.Evidence, format.Citation{File: f, Digest: e.Digest(f)})
	}
	return r
}

// gap is a rule that does not hold: what was found, what to do about it,
// and the files that show what was found.
func gap(en, zh, remedyEN, remedyZH string, e *Evidence, files ...string) format.RuleResult {
	r := holds(en, zh, e, files...)
	r.Status = format.Gap
	r.Remedy = &format.Text{EN: remedyEN, ZH: remedyZH}
	return r
}

// The manifest is written after the report (it signs it), so the report
// cites it without a digest; hegui verify checks it.

func ruleManifest(e *Evidence) format.RuleResult {
	return holds(
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

const (
	releaseKeyEN = "generate a release key (hegui key generate --name release), name it in hegui.yaml (signing.key), and deliver again"
	releaseKeyZH = "生成发布密钥（hegui key generate --name release），在 hegui.yaml 中配置 signing.key，然后重新交付"
)

func ruleSignatures(e *Evidence) format.RuleResult {
	p := primary(e)
	switch {
	case p == nil:
		return gap("the delivery is not signed", "交付物未签名", releaseKeyEN, releaseKeyZH, e)
	case p.Development:
		return gap("signed with a development key: the signature shows the files are unaltered, not who made them",
			"使用开发密钥签名：只能证明文件未被改动，不能证明由谁制作", releaseKeyEN, releaseKeyZH, e, format.ManifestFile)
	}
	return holds(
		fmt.Sprintf("the manifest and the provenance are signed with a %s release key (%d signer(s))", p.Algorithm, len(e.Signers)),
		fmt.Sprintf("清单和来源证明已用 %s 发布密钥签名（共 %d 个签名者）", p.Algorithm, len(e.Signers)), e, format.ManifestFile, e.Provenance)
}

func ruleCertificateChain(e *Evidence) format.RuleResult {
	p := primary(e)
	if p == nil || p.Chain == "" {
		return gap("the signer has no certificate binding its key to an identity", "签名者没有将密钥与身份绑定的证书",
			"have a CA issue a code-signing certificate for the release key (hegui cert request makes the CSR) and name it in hegui.yaml (signing.certificate)",
			"请 CA 为发布密钥签发代码签名证书（可用 hegui cert request 生成证书请求），并在 hegui.yaml 中配置 signing.certificate", e)
	}
	held := "a key file"
	heldZH := "密钥文件"
	if p.Token {
		held, heldZH = "a PKCS#11 token", "PKCS#11 密码设备"
	}
	return holds(fmt.Sprintf("the primary signer's code-signing certificate chain is in the delivery; the key is held by %s", held),
		fmt.Sprintf("交付物中包含主签名者的代码签名证书链；私钥保存在%s中", heldZH), e, p.Chain)
}

func ruleKeyInCryptoModule(e *Evidence) format.RuleResult {
	p := primary(e)
	switch {
	case p == nil:
		return gap("the delivery is not signed", "交付物未签名", releaseKeyEN, releaseKeyZH, e)
	case !p.Token:
		return gap("the release key is a software key (a key file or the keyring), not held by a cryptographic module",
			"发布密钥是软件密钥（密钥文件或密钥环），未保存在密码模块中",
			"keep the release key in a certified cryptographic module and sign through PKCS#11 (signing.key: pkcs11:…, docs/pkcs11.md)",
			"将发布密钥保存在经认证的密码模块中，通过 PKCS#11 签名（signing.key: pkcs11:…，见 docs/pkcs11.md）", e, format.CBOMFile)
	}
	return holds("the release key is held by a PKCS#11 token and never left it; whether the module is certified is the vendor's to show with its certificate",
		"发布密钥保存在 PKCS#11 密码设备中，从未导出；该模块是否经过认证，须由供应商以其认证证书说明", e, format.CBOMFile)
}

func ruleNationalCrypto(e *Evidence) format.RuleResult {
	p := primary(e)
	sm2 := false
	for _, s := range e.Signers {
		sm2 = sm2 || s.Algorithm == "sm2"
	}
	const remedyEN, remedyZH = "sign with an SM2 release key (hegui key generate makes SM2 keys by default)", "使用 SM2 发布密钥签名（hegui key generate 默认生成 SM2 密钥）"
	switch {
	case p != nil && p.Algorithm == "sm2":
		return holds(
			"the delivery's own signature is SM2 with SM3 (GB/T 32918, GB/T 32905) and every file has an SM3 digest",
			"交付物自身的签名采用 SM2/SM3（GB/T 32918、GB/T 32905），每个文件都有 SM3 摘要", e, format.ManifestFile, format.SM3SumsFile)
	case sm2:
		return gap("an SM2 co-signature and SM3 digests are present, but the primary signature is international",
			"有 SM2 联合签名和 SM3 摘要，但主签名采用国际算法", remedyEN, remedyZH, e, format.ManifestFile, format.SM3SumsFile)
	}
	return gap("every file has an SM3 digest, but no signature uses SM2", "每个文件都有 SM3 摘要，但没有使用 SM2 的签名",
		remedyEN, remedyZH, e, format.SM3SumsFile)
}

func ruleBinaryCrypto(e *Evidence) format.RuleResult {
	if !e.CryptoInventory {
		return gap("no cryptographic inventory of the binaries", "没有二进制文件的密码清单",
			"deliver with the cbom stage (it runs by default)", "启用 cbom 阶段交付（默认启用）", e)
	}
	var without, legacy []string
	for _, b := range e.BinaryCrypto {
		if len(b.National) == 0 {
			without = append(without, b.Path)
		}
		if len(b.Legacy) > 0 {
			legacy = append(legacy, b.Path)
		}
	}
	also, alsoZH := "", ""
	if len(legacy) > 0 {
		also = fmt.Sprintf("; %s also link legacy algorithms (the inventory lists which and through which packages): the system must not use them to protect data", strings.Join(legacy, ", "))
		alsoZH = fmt.Sprintf("；%s 还链接了过时算法（清单列出算法及引入它们的包）：系统不得用其保护数据", strings.Join(legacy, "、"))
	}
	switch {
	case len(e.BinaryCrypto) == 0:
		return gap("no binaries to inventory", "没有可清点的二进制文件", "deliver at least one main package", "至少交付一个 main 包", e)
	case len(without) > 0:
		return gap(fmt.Sprintf("%d of %d binaries link no national algorithm (SM2, SM3, SM4): %s%s", len(without), len(e.BinaryCrypto), strings.Join(without, ", "), also),
			fmt.Sprintf("%d/%d 个二进制文件未链接任何国密算法（SM2、SM3、SM4）：%s%s", len(without), len(e.BinaryCrypto), strings.Join(without, "、"), alsoZH),
			"protect the system's data with SM2, SM3 and SM4 (github.com/emmansun/gmsm, or hegui's runtime packages), and deliver again",
			"使用 SM2、SM3、SM4 保护系统数据（github.com/emmansun/gmsm 或 hegui 的运行时包），然后重新交付", e, format.CBOMFile)
	}
	return holds(fmt.Sprintf("every one of the %d binaries links national algorithms (SM2, SM3, SM4), as the per-binary inventory shows%s", len(e.BinaryCrypto), also),
		fmt.Sprintf("全部 %d 个二进制文件都链接了国密算法（SM2、SM3、SM4），见逐个二进制文件的密码清单%s", len(e.BinaryCrypto), alsoZH), e, format.CBOMFile)
}

func ruleCryptoInventory(e *Evidence) format.RuleResult {
	if !e.CryptoInventory {
		return gap("no cryptographic inventory", "没有密码清单", "deliver with the cbom stage (it runs by default)", "启用 cbom 阶段交付（默认启用）", e)
	}
	return holds(
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
		return gap("no binaries, so no SBOMs", "没有二进制文件，也就没有 SBOM", "deliver at least one main package", "至少交付一个 main 包", e)
	case missing > 0:
		return gap(fmt.Sprintf("%d of %d binaries lack an SPDX or CycloneDX SBOM", missing, len(e.Binaries)),
			fmt.Sprintf("%d/%d 个二进制文件缺少 SPDX 或 CycloneDX SBOM", missing, len(e.Binaries)),
			"write both formats (sbom.formats in hegui.yaml)", "同时生成两种格式（hegui.yaml 中的 sbom.formats）", e, files...)
	}
	return holds(
		fmt.Sprintf("each of the %d binaries has an SPDX 2.3 and a CycloneDX 1.6 SBOM of the modules linked into it, with versions and hashes", len(e.Binaries)),
		fmt.Sprintf("%d 个二进制文件各有 SPDX 2.3 和 CycloneDX 1.6 SBOM，列出其链接的模块及版本和哈希", len(e.Binaries)), e, files...)
}

func ruleProvenance(e *Evidence) format.RuleResult {
	p := primary(e)
	switch {
	case e.Provenance == "":
		return gap("no build provenance", "没有构建来源证明", "deliver with the provenance stage (it runs by default)", "启用 provenance 阶段交付（默认启用）", e)
	case p != nil && p.Development:
		return gap("in-toto/SLSA v1 provenance is included, signed with a development key",
			"包含 in-toto/SLSA v1 来源证明，但用开发密钥签名", releaseKeyEN, releaseKeyZH, e, e.Provenance)
	}
	return holds("signed in-toto Statement v1 with SLSA Provenance v1 (build parameters, resolved dependencies with digests)",
		"已签名的 in-toto Statement v1 / SLSA Provenance v1（构建参数、带摘要的依赖）", e, e.Provenance)
}

// ruleProvenanceExists is SLSA Build L1's "provenance exists": it asks
// for provenance that identifies the outputs by digest and says how they
// were built, not for a key that makes it authentic.
func ruleProvenanceExists(e *Evidence) format.RuleResult {
	if e.Provenance == "" {
		return gap("no build provenance", "没有构建来源证明", "deliver with the provenance stage (it runs by default)", "启用 provenance 阶段交付（默认启用）", e)
	}
	return holds("in-toto Statement v1 with SLSA Provenance v1: every binary by its digest, the build parameters and the resolved dependencies",
		"in-toto Statement v1 / SLSA Provenance v1：以摘要标识每个二进制文件，并记录构建参数和解析后的依赖", e, e.Provenance)
}

func ruleHostedBuild(e *Evidence) format.RuleResult {
	return gap(fmt.Sprintf("built by %s, a command run on the vendor's own machine, which signs the provenance with the vendor's key: SLSA Build L1", e.Builder),
		fmt.Sprintf("由 %s 构建，即在供应商自己机器上运行的命令，来源证明由供应商密钥签名：达到 SLSA Build L1", e.Builder),
		"build on a hosted build platform that generates and signs the provenance itself, with a key the build cannot reach (L2), on isolated, ephemeral runners (L3); ship that platform's provenance",
		"在托管构建平台上构建，由平台自行生成并签名来源证明、且构建过程无法接触签名密钥（L2），并使用隔离的一次性构建环境（L3）；随交付物提供该平台的来源证明",
		e, e.Provenance)
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
	if n > 0 && identical == n {
		return holds(fmt.Sprintf("all %d binaries were built twice, independently, with identical SHA-256", n),
			fmt.Sprintf("全部 %d 个二进制文件经两次独立构建，SHA-256 一致", n), e, format.ReportJSONFile)
	}
	return gap(fmt.Sprintf("%d of %d binaries reproduced; %d differ, %d not checked", identical, n, different, skipped),
		fmt.Sprintf("%d/%d 个二进制文件可复现；%d 个不一致，%d 个未检查", identical, n, different, skipped),
		"set policy.reproducibility: require and fix what differs (the report shows the differing sections)",
		"设置 policy.reproducibility: require，并修复不一致之处（报告列出不同的节）", e, format.ReportJSONFile)
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
		return gap("no binaries were checked", "没有检查二进制文件", "deliver at least one main package", "至少交付一个 main 包", e)
	case fail == 0 && warn == 0:
		return holds(fmt.Sprintf("all %d binaries pass the hardening checks", n),
			fmt.Sprintf("全部 %d 个二进制文件通过加固检查", n), e, format.ReportJSONFile)
	}
	return gap(fmt.Sprintf("%d of %d binaries fail a hardening check, %d have warnings", fail, n, warn),
		fmt.Sprintf("%d/%d 个二进制文件未通过加固检查，%d 个有警告", fail, n, warn),
		"apply the fixes the report's hardening section names for each check", "按报告加固部分对每项检查给出的方法修复", e, format.ReportJSONFile)
}

func ruleVersionControl(e *Evidence) format.RuleResult {
	switch {
	case !e.VCSStamped:
		return gap("built outside version control", "不是从版本控制中构建的",
			"deliver from a git work tree", "从 git 工作区交付", e)
	case e.Tagged && !e.Dirty:
		return holds("built from a tagged, clean commit; the binaries carry the VCS stamp",
			"从带标签的干净提交构建；二进制文件带有版本控制信息", e, e.Provenance)
	}
	return gap("built from version control, but from an untagged snapshot or a tree with uncommitted changes",
		"从版本控制构建，但不是带标签的发布提交，或工作区有未提交的改动",
		"commit everything, tag the release (git tag v1.2.3) and deliver again", "提交全部改动，打发布标签（git tag v1.2.3），然后重新交付", e, e.Provenance)
}

func ruleLicenses(e *Evidence) format.RuleResult {
	switch {
	case e.LicenseViolations > 0:
		return gap(fmt.Sprintf("%d licence policy violations", e.LicenseViolations),
			fmt.Sprintf("%d 项许可证策略违规", e.LicenseViolations),
			"replace the modules the licence policy refuses, or change the policy with the reason (policy.licenses)",
			"替换被许可证策略拒绝的模块，或说明理由后调整策略（policy.licenses）", e, format.ReportJSONFile)
	case e.LicensesUnknown > 0:
		return gap(fmt.Sprintf("%d of %d modules have no concluded licence", e.LicensesUnknown, e.Licenses),
			fmt.Sprintf("%d/%d 个模块无法确定许可证", e.LicensesUnknown, e.Licenses),
			"conclude them by hand in hegui.yaml (licenses.overrides), citing the licence text",
			"在 hegui.yaml 中手工确定（licenses.overrides），并注明许可证文本出处", e, format.ReportJSONFile)
	}
	return holds(fmt.Sprintf("the licences of all %d modules are determined and the licence policy passed", e.Licenses),
		fmt.Sprintf("全部 %d 个模块的许可证均已确定，且通过许可证策略", e.Licenses), e, format.ReportJSONFile)
}

const (
	updateDBEN = "update the vulnerability database (hegui vulndb update, or import a newer snapshot) and deliver again"
	updateDBZH = "更新漏洞库（hegui vulndb update，或导入更新的快照），然后重新交付"
)

func ruleVulnScan(e *Evidence) format.RuleResult {
	v := e.Vuln
	switch {
	case v.Status != "scanned":
		return gap("no vulnerability scan: "+v.Reason, "未做漏洞扫描："+v.Reason,
			"deliver with a vulnerability database (hegui vulndb import or update)", "配置漏洞库后交付（hegui vulndb import 或 update）", e)
	case v.AgeUnknown:
		return gap("scanned against a database of unknown age (its entries carry no modified date), which counts as too old",
			"扫描所用漏洞库日期未知（条目无修改日期），视为过旧", updateDBEN, updateDBZH, e, v.Files...)
	case v.MaxAgeDays <= 0:
		return gap(fmt.Sprintf("scanned against a database %.0f days old, but the policy sets no limit on its age, so nothing keeps the scan current", v.AgeDays),
			fmt.Sprintf("扫描所用漏洞库已有 %.0f 天，但策略未限制漏洞库的时效，无法保证扫描及时", v.AgeDays),
			"set policy.vulnerabilities.databaseMaxAge in hegui.yaml (for example 30d) and deliver again", "在 hegui.yaml 中设置 policy.vulnerabilities.databaseMaxAge（例如 30d），然后重新交付", e, v.Files...)
	case v.AgeDays > v.MaxAgeDays:
		return gap(fmt.Sprintf("scanned against a database %.0f days old (the policy allows %.0f): the scan only warned", v.AgeDays, v.MaxAgeDays),
			fmt.Sprintf("扫描所用漏洞库已有 %.0f 天（策略允许 %.0f 天）：扫描仅给出警告", v.AgeDays, v.MaxAgeDays), updateDBEN, updateDBZH, e, v.Files...)
	case !v.Precise:
		return gap("scanned, partly without a call graph (memory budget): some findings have binary-symbol precision",
			"已扫描，但因内存预算部分未使用调用图：部分结果仅为二进制符号精度",
			"deliver on a machine with more memory, or raise vulnerabilities.memory in hegui.yaml", "在内存更大的机器上交付，或调高 hegui.yaml 中的 vulnerabilities.memory", e, v.Files...)
	}
	return holds(fmt.Sprintf("govulncheck call-graph scan against a database %.0f days old: %d known vulnerabilities examined", v.AgeDays, v.Findings),
		fmt.Sprintf("使用 %.0f 天内的漏洞库进行 govulncheck 调用图扫描：共检查 %d 个已知漏洞", v.AgeDays, v.Findings), e, v.Files...)
}

func ruleVulnsResolved(e *Evidence) format.RuleResult {
	v := e.Vuln
	const fixEN, fixZH = "upgrade the affected modules to the fixed versions the report names, and deliver again", "将受影响模块升级到报告列出的修复版本，然后重新交付"
	switch {
	case v.Status != "scanned":
		return gap("unknown: no vulnerability scan", "未知：未做漏洞扫描",
			"deliver with a vulnerability database (hegui vulndb import or update)", "配置漏洞库后交付（hegui vulndb import 或 update）", e)
	case v.Reachable > 0:
		return gap(fmt.Sprintf("%d reachable known vulnerabilities remain", v.Reachable),
			fmt.Sprintf("仍有 %d 个可达的已知漏洞", v.Reachable), fixEN, fixZH, e, v.Files...)
	case v.Accepted > 0:
		return gap(fmt.Sprintf("%d reachable vulnerabilities are accepted by policy ignore rules (with reasons and expiry dates), not fixed", v.Accepted),
			fmt.Sprintf("%d 个可达漏洞已按策略豁免（附理由和到期日），尚未修复", v.Accepted), fixEN, fixZH, e, v.Files...)
	}
	return holds("no reachable known vulnerability; unreachable ones are stated in the VEX document",
		"没有可达的已知漏洞；不可达的漏洞已在 VEX 文档中说明", e, v.Files...)
}

func ruleVEX(e *Evidence) format.RuleResult {
	if e.Vuln.VEX == "" {
		return gap("no VEX document", "没有 VEX 文档",
			"deliver with a vulnerability database: the vulns stage writes the VEX document", "配置漏洞库后交付：vulns 阶段会生成 VEX 文档", e)
	}
	return holds("an OpenVEX document states affected / not affected, with justification, for every finding",
		"OpenVEX 文档对每个发现说明是否受影响及理由", e, e.Vuln.VEX)
}

func ruleStaticAnalysis(e *Evidence) format.RuleResult {
	s := e.SAST
	switch {
	case s.Status != "scanned":
		return gap("no static analysis", "未做静态分析", "deliver with the vet stage (it runs by default)", "启用 vet 阶段交付（默认启用）", e)
	case s.Gating > 0:
		return gap(fmt.Sprintf("go vet and gosec ran; %d unsuppressed findings reach the policy's severity", s.Gating),
			fmt.Sprintf("已运行 go vet 和 gosec；%d 个未抑制的发现达到策略严重级别", s.Gating),
			"fix the findings sast.sarif lists, or suppress each in the source with its reason (docs/vet.md)",
			"修复 sast.sarif 列出的发现，或在源码中逐个注明理由后抑制（见 docs/vet.md）", e, s.Files...)
	case s.Suppressed > 0:
		return holds(fmt.Sprintf("go vet and gosec ran; no finding reaches the gate, %d are suppressed in the source (with their reasons in sast.sarif)", s.Suppressed),
			fmt.Sprintf("已运行 go vet 和 gosec；无发现达到门限，%d 个在源码中被抑制（理由见 sast.sarif）", s.Suppressed), e, s.Files...)
	}
	return holds(fmt.Sprintf("go vet and gosec ran with CWE mapping; %d findings, none reaching the policy's severity", s.Findings),
		fmt.Sprintf("已运行 go vet 和 gosec（含 CWE 映射）；共 %d 个发现，均未达到策略严重级别", s.Findings), e, s.Files...)
}

// ruleSecurityTests holds when the module's own tests ran for the
// delivery and passed. It shows that the tests the vendor wrote pass on
// the delivered source (with the race detector where the host had it, and
// every fuzz target over its seed corpus); what the tests cover is for
// whoever reads them, with the coverage figure as a guide.
func ruleSecurityTests(e *Evidence) format.RuleResult {
	t := e.Tests
	switch {
	case t.Status != "ran":
		reason, reasonZH := t.Reason, t.Reason
		if reason == "" {
			reason, reasonZH = "the delivery has no test results", "交付物中没有测试结果"
		}
		return gap("the module's tests did not run: "+reason, "模块自身的测试未运行："+reasonZH,
			"run them with the delivery (tests.enabled: true in hegui.yaml, the default) and deliver again",
			"随交付运行测试（hegui.yaml 中 tests.enabled: true，即默认设置），然后重新交付", e)
	case t.FailedPackages > 0:
		return gap(fmt.Sprintf("the tests failed in %d package(s): %d of %d tests failed, or a test binary did not build, crashed or did not finish", t.FailedPackages, t.Failed, t.Tests),
			fmt.Sprintf("%d 个程序包的测试未通过：%d/%d 个测试失败，或测试程序未能构建、崩溃或未在时限内完成", t.FailedPackages, t.Failed, t.Tests),
			"fix the failing tests tests.json lists, each with its output, and deliver again",
			"修复 tests.json 列出的失败测试（附其输出），然后重新交付", e, t.Files...)
	case t.Tests == 0:
		return gap("the module has no tests: go test found no test, example or fuzz target to run",
			"模块没有测试：go test 未找到可运行的测试、示例或模糊测试目标",
			"write tests for the module, with fuzz targets for the code that reads untrusted input, and deliver again",
			"为模块编写测试，并为读取不可信输入的代码编写模糊测试目标，然后重新交付", e, t.Files...)
	case t.Passed == 0:
		return gap(fmt.Sprintf("every one of the %d tests skipped itself", t.Tests), fmt.Sprintf("全部 %d 个测试均自行跳过", t.Tests),
			"make the tests run where the delivery is made (without the network, in -short mode), or turn -short off (tests.short: false)",
			"使测试能在交付环境中运行（无网络、-short 模式），或关闭 -short（tests.short: false）", e, t.Files...)
	}
	race, raceZH := "with the race detector", "启用了竞态检测"
	if !t.Race {
		race, raceZH = "without the race detector ("+t.RaceReason+")", "未启用竞态检测（"+t.RaceReason+"）"
	}
	cov, covZH := "no statement coverage recorded", "未记录语句覆盖率"
	if t.Coverage != nil {
		cov, covZH = fmt.Sprintf("statement coverage %.1f%%", *t.Coverage), fmt.Sprintf("语句覆盖率 %.1f%%", *t.Coverage)
	}
	return holds(fmt.Sprintf("go test ran %d tests in %d packages for this delivery and all passed (%d skipped themselves), %d fuzz target(s) among them over their seed corpora, %s; %s",
		t.Tests, t.Packages, t.Skipped, t.FuzzTargets, race, cov),
		fmt.Sprintf("本次交付运行了 go test：%d 个程序包中的 %d 个测试全部通过（%d 个自行跳过），其中 %d 个模糊测试目标运行了其种子语料，%s；%s",
			t.Packages, t.Tests, t.Skipped, t.FuzzTargets, raceZH, covZH), e, t.Files...)
}

func rulePolicyGate(e *Evidence) format.RuleResult {
	switch {
	case e.Violations > 0:
		// A violation is a violation whether or not the policy stopped the
		// delivery for it: warn mode must not score better than enforce.
		return gap(fmt.Sprintf("the policy found %d violations (%s mode)", e.Violations, e.PolicyMode),
			fmt.Sprintf("策略检查发现 %d 项违规（%s 模式）", e.Violations, e.PolicyMode),
			"resolve the violations the report lists, each with its remedy", "按报告列出的方法逐项解决违规", e, format.ReportJSONFile)
	case len(e.GatesOff) > 0:
		return gap(fmt.Sprintf("the policy's %s gate is off: what it checks is not judged", strings.Join(e.GatesOff, ", ")),
			fmt.Sprintf("策略的 %s 门禁已关闭：其检查项未被判定", strings.Join(e.GatesOff, "、")),
			"turn the gate on (fail, or warn) in hegui.yaml's policy", "在 hegui.yaml 的 policy 中开启该门禁（fail 或 warn）", e, format.ReportJSONFile)
	case e.PolicyMode != "enforce":
		return gap("the policy ran in warn mode: no violations, but none would have stopped the delivery",
			"策略以告警模式运行：无违规，但违规不会阻止交付",
			"set policy.mode: enforce in hegui.yaml", "在 hegui.yaml 中设置 policy.mode: enforce", e, format.ReportJSONFile)
	}
	return holds("every gate of the delivery's policy (licences, vulnerabilities, static analysis, hardening, reproducibility, tests) passed in enforce mode",
		"交付策略的全部门禁（许可证、漏洞、静态分析、加固、可复现、测试）在强制模式下通过", e, format.ReportJSONFile)
}

func ruleReleaseLogged(e *Evidence) format.RuleResult {
	if e.ReleaseLogProof == "" {
		return gap("the release is not recorded in a transparency log", "发布未记录到透明日志",
			"run an audit log (hegui log serve) and name it in hegui.yaml (auditLog.url), then deliver again (docs/audit-log.md)",
			"运行审计日志（hegui log serve），在 hegui.yaml 中配置 auditLog.url，然后重新交付（见 docs/audit-log.md）", e)
	}
	return holds("the release event is in a transparency log, with an inclusion proof and a signed checkpoint: the release cannot be altered or withdrawn unnoticed",
		"发布事件已写入透明日志，附包含证明和签名检查点：发布无法在无人察觉时被更改或撤回", e, e.ReleaseLogProof)
}

// ruleNoPersonalData holds when the pii stage read the module's files and
// found no personal information of the kinds the policy fails on: the
// vendor ships no real-looking identifiers or accounts in its fixtures,
// configs and logs.
func ruleNoPersonalData(e *Evidence) format.RuleResult {
	p := e.PII
	kinds := strings.Join(p.FailOn, ", ")
	switch {
	case p.Status != string(format.Scanned):
		why, whyZH := "", ""
		if p.Reason != "" {
			why, whyZH = ": "+p.Reason, "："+p.Reason
		}
		return gap("the module's files were not scanned for personal information"+why,
			"未扫描模块文件中的个人信息"+whyZH,
			"set pii.scan: on (the default) in hegui.yaml and deliver again",
			"在 hegui.yaml 中设置 pii.scan: on（默认值），然后重新交付", e)
	case p.Gating > 0:
		return gap(fmt.Sprintf("the module's files hold %d finding(s) of personal information (%s), listed masked in %s", p.Gating, strings.Join(p.GatingKinds, ", "), format.PIIJSONFile),
			fmt.Sprintf("模块文件中有 %d 处个人信息（%s），已脱敏列于 %s", p.Gating, strings.Join(p.GatingKinds, "、"), format.PIIJSONFile),
			"remove real personal data from fixtures, configs and logs (and from the repository's history); mark a synthetic value's line pii:ignore; then deliver again",
			"从测试数据、配置和日志中删除真实的个人信息（包括仓库历史）；合成数据所在行标注 pii:ignore；然后重新交付", e, p.Files...)
	}
	en := fmt.Sprintf("the module's %d files hold no personal information of the kinds %s, as %s shows", p.FilesRead, kinds, format.PIIJSONFile)
	zh := fmt.Sprintf("模块的 %d 个文件中没有 %s 类个人信息，见 %s", p.FilesRead, kinds, format.PIIJSONFile)
	if p.Total > 0 {
		en += fmt.Sprintf(" (it lists %d finding(s) of other kinds, such as authors' e-mail addresses, which the policy does not judge)", p.Total)
		zh += fmt.Sprintf("（其中另列有 %d 处策略不评判的其他类型发现，如作者的电子邮件地址）", p.Total)
	}
	if p.Skipped > 0 {
		en += fmt.Sprintf("; %d file(s) were not read (binary, too large or unreadable: spreadsheets and databases among them are not covered), which it lists", p.Skipped)
		zh += fmt.Sprintf("；另有 %d 个文件未读取（二进制、过大或无法读取，其中的电子表格和数据库不在范围内），已列于其中", p.Skipped)
	}
	return holds(en, zh, e, p.Files...)
}
