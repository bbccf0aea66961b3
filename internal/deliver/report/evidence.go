package report

import (
	"strings"

	"hegui.dev/hegui/internal/compliance"
	"hegui.dev/hegui/internal/config"
	"hegui.dev/hegui/internal/cryptoinv"
	"hegui.dev/hegui/internal/format"
)

// Evidence reads what the report r shows the way the compliance rules ask
// for it. digest cites the delivery's files ("sha256:HEX"): hashed from the
// staging directory while delivering, read from manifest.json when a report
// is rendered again.
func Evidence(r *format.Report, digest func(string) string) *compliance.Evidence {
	e := &compliance.Evidence{
		Digest: digest, Provenance: r.Provenance,
		Tagged: r.Version.Tag != "" && !r.Version.Snapshot, Dirty: r.Version.Dirty, VCSStamped: r.Version.VCS,
		PolicyMode: r.Verdict.Mode, Violations: len(r.Verdict.Violations),
		CryptoInventory: r.Cryptography != nil,
	}
	if r.Provenance != "" {
		e.Builder = format.BuilderID
	}
	for _, g := range []struct{ name, setting string }{
		{"hardening", r.Policy.Hardening}, {"reproducibility", r.Policy.Reproducibility}, {"static-analysis", r.Policy.StaticGate},
		{"tests", r.Policy.Tests}, {"pii", r.Policy.PIIGate},
	} {
		if g.setting == config.Off {
			e.GatesOff = append(e.GatesOff, g.name)
		}
	}
	if r.AuditLog != "" {
		// Written after the report, like the manifest: cited without a
		// digest, checked by hegui verify.
		e.ReleaseLogProof = format.TransparencyProofFile
	}
	if r.Cryptography != nil {
		e.BinaryCrypto = binaryCrypto(r.Cryptography)
	}
	e.Documents = r.Documents
	e.Operator = r.OperatorEvidence
	for _, a := range r.Attestations {
		if e.Attestations == nil {
			e.Attestations = map[string]string{}
		}
		e.Attestations[format.ControlRef(a.Framework, a.Control)] = a.File
	}
	for _, s := range r.Signers {
		sig := compliance.Signer{Algorithm: string(s.Algorithm), Role: s.Role, Development: s.Development,
			Token: strings.HasPrefix(s.Label, "pkcs11:")}
		if s.Subject != "" {
			sig.Chain = format.SignerChainPath(s.KeyID)
		}
		e.Signers = append(e.Signers, sig)
	}
	for _, b := range r.Binaries {
		eb := compliance.Binary{Path: b.Path, SBOMs: b.SBOMs}
		if b.Reproducible != nil {
			eb.Reproducible = string(b.Reproducible.Status)
		}
		if b.Hardening != nil {
			for _, c := range b.Hardening.Checks {
				switch c.Status {
				case format.Fail:
					eb.HardeningFail++
				case format.Warn:
					eb.HardeningWarn++
				}
			}
		}
		e.Binaries = append(e.Binaries, eb)
		for _, p := range b.RuntimePackages {
			if e.RuntimeLinked == nil {
				e.RuntimeLinked = map[string][]string{}
			}
			e.RuntimeLinked[p] = append(e.RuntimeLinked[p], b.Path)
		}
	}
	for _, l := range r.Licenses.Modules {
		if l.Main {
			continue
		}
		e.Licenses++
		if l.Concluded == "NOASSERTION" {
			e.LicensesUnknown++
		}
	}
	for _, v := range r.Verdict.Violations {
		if v.Rule == "policy.licenses.deny" || v.Rule == "policy.licenses.allow" {
			e.LicenseViolations++
		}
	}
	e.Vuln = vulnEvidence(r)
	e.SAST = sastEvidence(r)
	e.Tests = testsEvidence(r)
	e.PII = piiEvidence(r)
	return e
}

// piiEvidence is the pii stage's evidence.
func piiEvidence(r *format.Report) compliance.PIIEvidence {
	p := r.PersonalData
	ev := compliance.PIIEvidence{Status: string(p.Status), Reason: p.Reason, Files: p.Files}
	if s := p.Scan; s != nil {
		ev.FilesRead, ev.Total, ev.Gating, ev.FailOn, ev.Skipped = s.FilesRead, s.Total, s.Gating, s.FailOn, s.Skipped
		for _, k := range s.Kinds {
			if k.Gates {
				ev.GatingKinds = append(ev.GatingKinds, k.Kind)
			}
		}
	}
	return ev
}

// binaryCrypto sorts the algorithms each binary links by class.
func binaryCrypto(inv *cryptoinv.Inventory) []compliance.BinaryCrypto {
	class := map[string]string{}
	for _, a := range inv.Algorithms {
		class[a.Name] = a.Class
	}
	out := make([]compliance.BinaryCrypto, 0, len(inv.Binaries))
	for _, b := range inv.Binaries {
		bc := compliance.BinaryCrypto{Path: b.Path}
		for _, a := range b.Algorithms {
			switch class[a] {
			case cryptoinv.National:
				bc.National = append(bc.National, a)
			case cryptoinv.Legacy:
				bc.Legacy = append(bc.Legacy, a)
			default:
				bc.International = append(bc.International, a)
			}
		}
		out = append(out, bc)
	}
	return out
}

func vulnEvidence(r *format.Report) compliance.VulnEvidence {
	v := r.Vulnerabilities
	ev := compliance.VulnEvidence{Status: string(v.Status), Reason: v.Reason, Files: v.Files, MaxAgeDays: r.Policy.DatabaseMaxAgeDays, Precise: true}
	doc := v.Scan
	if doc == nil {
		return ev
	}
	ev.AgeDays, ev.AgeUnknown = doc.Database.AgeDays, doc.Database.AgeUnknown
	ev.Findings = len(doc.Findings)
	ev.VEX = format.OpenVEXFile
	for _, s := range doc.Scans {
		if s.Mode == "source" && s.Precision != format.PrecisionCallGraph || s.Note != "" {
			ev.Precise = false
		}
	}
	for _, f := range doc.Findings {
		switch {
		case f.Reachable && f.Ignored != nil:
			ev.Accepted++
		case f.Reachable:
			ev.Reachable++
		}
	}
	return ev
}

func sastEvidence(r *format.Report) compliance.SASTEvidence {
	s := r.StaticAnalysis
	ev := compliance.SASTEvidence{Status: string(s.Status), Files: s.Files}
	doc := s.Scan
	if doc == nil {
		return ev
	}
	ev.Findings = len(doc.Findings)
	// A policy that fails on no severity still leaves high findings
	// standing as far as a control is concerned.
	failOn := r.Policy.StaticFailOn
	if failOn == "none" || failOn == "" {
		failOn = "high"
	}
	threshold := format.SASTSeverityRank(failOn)
	for _, f := range doc.Findings {
		switch {
		case f.Suppression != nil:
			ev.Suppressed++
		case format.SASTSeverityRank(f.Severity) >= threshold:
			ev.Gating++
		}
	}
	return ev
}

// testsEvidence counts the test run's packages again rather than take its
// totals.
func testsEvidence(r *format.Report) compliance.TestsEvidence {
	t := r.Tests
	ev := compliance.TestsEvidence{Status: string(t.Status), Reason: t.Reason, Files: t.Files}
	run := t.Run
	if run == nil {
		return ev
	}
	sum := format.SumTests(run.Packages)
	ev.Packages, ev.FailedPackages = sum.PackagesWithTests, sum.FailedPackages
	ev.Tests, ev.Passed, ev.Failed, ev.Skipped, ev.FuzzTargets = sum.Tests, sum.Passed, sum.Failed, sum.Skipped, sum.FuzzTargets
	ev.Race, ev.RaceReason, ev.Coverage = run.Race.Enabled, run.Race.Reason, run.Totals.Coverage
	return ev
}
