package report

import (
	"fmt"
	"strings"

	"hegui.dev/hegui/internal/format"
)

// Markdown renders the report as Markdown, for merge requests, wikis and
// tickets: the summary, the policy verdict, reachable vulnerabilities,
// unsuppressed static-analysis findings, the module's failing tests, the
// cryptographic inventory and the compliance matrix.
func Markdown(r *format.Report) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# 交付报告 Delivery report: %s %s\n\n", r.Project, r.Version.Version)
	w("- Module: `%s`\n- Commit: `%s`\n- Built: %s by hegui %s\n- Binaries: %d\n",
		r.Module, orDash(r.Version.Commit), r.Finished.Format("2006-01-02 15:04 UTC"), r.Hegui, len(r.Binaries))
	if r.Development {
		w("- **Signed with a development key**: the signature shows the delivery is unaltered, not who made it.\n")
	}
	w("\n## 策略 Policy (%s mode)\n\n", r.Verdict.Mode)
	if len(r.Verdict.Violations) == 0 {
		w("Passed: no violations.\n")
	} else {
		w("| Rule | Count | Problem | What to do |\n|---|---|---|---|\n")
		for _, g := range groupViolations(r.Verdict.Violations) {
			var places []string
			for _, v := range g.Shown() {
				places = append(places, place(v))
			}
			if n := len(g.Folded()); n > 0 {
				places = append(places, fmt.Sprintf("… and %d more (report.html lists every one)", n))
			}
			w("| `%s` | %d | %s | %s |\n", g.Rule, len(g.Violations), md(strings.Join(places, "; ")), md(g.Remedy))
		}
	}
	w("\n## 漏洞 Vulnerabilities\n\n")
	if doc := r.Vulnerabilities.Scan; doc != nil {
		s := doc.Summary
		w("Database of %s (%d entries, %s). %d known: **%d reachable**, %d imported only, %d required only, %d accepted.\n\n",
			doc.Database.ModifiedText(), doc.Database.Entries, doc.Database.AgeText(), s.Total, s.Reachable, s.Imported, s.Required, s.Ignored)
		if len(doc.Findings) > 0 {
			w("| ID | Module | Fixed in | Status | Severity | Call path |\n|---|---|---|---|---|---|\n")
			for _, f := range doc.Findings {
				path := ""
				if len(f.Paths) > 0 {
					var steps []string
					for _, st := range f.Paths[0] {
						steps = append(steps, shortSymbol(st.Symbol))
					}
					path = strings.Join(steps, " → ")
				}
				status := f.Status
				if f.Ignored != nil {
					status += " (accepted until " + f.Ignored.Expires + ")"
				}
				w("| [%s](%s) | `%s@%s` | %s | %s | %s | %s |\n", f.ID, f.URL, f.Module, format.DisplayVersion(f.Module, f.Version),
					orDash(format.DisplayVersion(f.Module, f.Fixed)), status, f.Severity, md(path))
			}
		}
	} else {
		w("Not scanned: %s\n", r.Vulnerabilities.Reason)
	}
	w("\n## 静态分析 Static analysis\n\n")
	if doc := r.StaticAnalysis.Scan; doc != nil {
		w("%d findings, %d suppressed.\n\n", doc.Summary.Total, doc.Summary.Suppressed)
		if len(doc.Findings) > 0 {
			w("| Location | Rule | CWE | Severity | Finding | Suppressed |\n|---|---|---|---|---|---|\n")
			for _, f := range doc.Findings {
				cwe, sup := "", ""
				if f.CWE != 0 {
					cwe = fmt.Sprintf("CWE-%d", f.CWE)
				}
				if f.Suppression != nil {
					sup = "`" + f.Suppression.Directive + "` " + orDash(f.Suppression.Justification)
				}
				w("| `%s` | %s %s | %s | %s | %s | %s |\n", f.Where(), f.Tool, f.Rule, cwe, f.Severity, md(f.Message), md(sup))
			}
		}
	} else {
		w("Not run: %s\n", r.StaticAnalysis.Reason)
	}
	w("\n## 测试 Tests\n\n")
	if run := r.Tests.Run; run != nil {
		t := run.Totals
		race := "with the race detector"
		if !run.Race.Enabled {
			race = "without the race detector (" + run.Race.Reason + ")"
		}
		w("`%s`, %s. %d packages, %d with tests: %d tests, %d passed, **%d failed**, %d skipped; %d fuzz target(s) over %d seed inputs; statement coverage %s.\n",
			md(strings.Join(run.Command, " ")), md(race), t.Packages, t.PackagesWithTests, t.Tests, t.Passed, t.Failed, t.Skipped, t.FuzzTargets, t.FuzzSeeds, coverageText(t.Coverage))
		var failing []string
		for _, p := range run.Packages {
			if p == nil {
				continue
			}
			for _, f := range p.Failures {
				failing = append(failing, fmt.Sprintf("| `%s` | %s | %s |\n", p.Package, md(orDash(f.Test)), md(f.Reason())))
			}
		}
		if len(failing) > 0 {
			w("\n| Package | Test | What went wrong |\n|---|---|---|\n%s", strings.Join(failing, ""))
		}
	} else {
		w("Not run: %s\n", r.Tests.Reason)
	}
	w("\n## 个人信息 Personal information in the module's files\n\n")
	if sc := r.PersonalData.Scan; sc != nil {
		w("%d files read (%d passed over): %d finding(s), **%d of the kinds the policy fails on** (%s); every place in `%s`, values masked.\n",
			sc.FilesRead, sc.Skipped, sc.Total, sc.Gating, md(strings.Join(sc.FailOn, ", ")), format.PIIJSONFile)
		if len(sc.Kinds) > 0 {
			w("\n| Kind | Count | Files | Gates | Samples (masked) |\n|---|---|---|---|---|\n")
			for _, k := range sc.Kinds {
				gates := "no"
				if k.Gates {
					gates = "yes"
				}
				w("| %s | %d | %d | %s | %s |\n", k.Kind, k.Count, k.Files, gates, md(strings.Join(k.Samples, ", ")))
			}
		}
	} else {
		w("Not run: %s\n", r.PersonalData.Reason)
	}
	if inv := r.Cryptography; inv != nil {
		w("\n## 密码清单 Cryptographic inventory\n\n| Algorithm | Class | Purpose in this delivery |\n|---|---|---|\n")
		uses := map[string][]string{}
		for _, u := range inv.Protection {
			uses[u.Algorithm] = append(uses[u.Algorithm], u.Purpose)
		}
		for _, a := range inv.Algorithms {
			purpose := strings.Join(uses[a.Name], "; ")
			if purpose == "" {
				purpose = "linked into the binaries"
			}
			w("| %s | %s | %s |\n", a.Name, classLabel(a.Class), purpose)
		}
	}
	w("\n## 合规矩阵 Compliance matrix\n\nThe vendor part of each control is decided from this delivery; the operator part is what only the operator of the running system can show, and is always still to complete.\n\n")
	w("| Framework | Controls | Vendor: evidenced | Vendor: attested | Vendor: gap | Vendor: not applicable | Operator: to complete |\n|---|---|---|---|---|---|---|\n")
	for _, f := range r.Compliance {
		s := f.Summary
		op := fmt.Sprint(s.OperatorToComplete)
		if s.OperatorEvidence > 0 {
			op += fmt.Sprintf(" (evidence on %d, failing on %d)", s.OperatorEvidence, s.OperatorEvidenceFailing)
		}
		w("| %s | %d | %d | %d | %d | %d | %s |\n", f.Name.ZH, s.Controls, s.Vendor.Evidenced, s.Vendor.Attested, s.Vendor.Gap, s.Vendor.NotApplicable, op)
	}
	if len(r.Documents) > 0 {
		w("\n### 交付文档 Documents\n\n| File | Kind | Controls | SHA-256 |\n|---|---|---|---|\n")
		for _, d := range r.Documents {
			w("| `%s` | %s | %s | `%s` |\n", d.File, d.Kind, md(strings.Join(d.Controls, ", ")), d.SHA256)
		}
	}
	if len(r.Attestations) > 0 {
		w("\n### 供应商声明 Vendor statements\n\nShown as attested, never as evidenced.\n\n| Control | Statement | File |\n|---|---|---|\n")
		for _, a := range r.Attestations {
			w("| `%s` | %s | `%s` |\n", format.ControlRef(a.Framework, a.Control), md(a.Statement), a.File)
		}
	}
	if len(r.OperatorEvidence) > 0 {
		w("\n### 运营者证据 Operator evidence\n\nChecks of the deployed system the operator attached (hegui tlscheck), judged by hegui against its TLS profile from what each saw, as of the time of the check; shown beside the operator parts that accept them, which stay to complete. Not part of the delivery. Not probed: %s.\n\n| Endpoint | Checked | Verdict | What the check saw | Findings | File |\n|---|---|---|---|---|---|\n",
			md(strings.Join(r.OperatorEvidence[0].Unprobed, "; ")))
		for _, e := range r.OperatorEvidence {
			var fs []string
			for _, f := range e.Findings {
				fs = append(fs, f.Level+" "+f.Rule+": "+f.Message)
			}
			w("| %s | %s | %s | %s | %s | %s sha256:%s |\n", md(e.Subject), e.Checked.UTC().Format("2006-01-02 15:04 UTC"), e.Verdict().ZH+" / "+e.Verdict().EN,
				md(e.Summary.EN), md(orDash(strings.Join(fs, "; "))), md(e.File), e.SHA256)
		}
	}
	for _, f := range r.Compliance {
		sum := f.Summary.Sentence()
		w("\n### %s\n\n%s\n\n%s · %s\n\n| Control | Requirement | Vendor part | What the vendor part shows, or what to do | Operator part |\n|---|---|---|---|---|\n",
			f.Name.ZH, f.Name.EN, sum.ZH, sum.EN)
		for _, o := range f.Controls {
			w("| `%s` | %s / %s | %s | %s | %s |\n", o.ID, md(o.Text.ZH), md(o.Text.EN), statusLabels[o.Vendor.Status], md(vendorDetail(o.Vendor)), md(operatorDetail(o.Operator)))
		}
	}
	return []byte(b.String())
}

// operatorDetail is an operator part's statement, followed by the
// operator evidence beside it.
func operatorDetail(p format.OperatorPart) string {
	s := p.Statement.ZH + " / " + p.Statement.EN
	for _, c := range p.Evidence {
		s += fmt.Sprintf(" — operator evidence: %s %s (%s)", c.Subject, c.Verdict().EN, c.File)
	}
	return s
}

// vendorDetail is a vendor part in a sentence or two: what it covers, or
// why it does not apply; and for each gap, what to do.
func vendorDetail(v format.VendorPart) string {
	if v.Status == format.ControlNotApplicable && v.Reason != nil {
		return v.Reason.EN
	}
	if v.Attest != nil {
		if v.Attestation != nil {
			return "signed vendor statement " + v.Attestation.File + ": " + v.Attest.EN
		}
		return "no signed vendor statement yet; it must say: " + v.Attest.EN
	}
	parts := []string{v.Covers.EN}
	for _, r := range v.Rules {
		if r.Status == format.Gap && r.Remedy != nil {
			parts = append(parts, fmt.Sprintf("%s: %s; %s", r.Rule, r.Detail.EN, r.Remedy.EN))
		}
	}
	return strings.Join(parts, " — ")
}

// coverageText is a coverage percentage, or says there is none.
func coverageText(p *float64) string {
	if p == nil {
		return "not recorded"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

// md escapes a table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
