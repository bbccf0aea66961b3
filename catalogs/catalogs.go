// Package catalogs holds the compliance control catalogs hegui maps a
// delivery's evidence to, as versioned data files (one YAML file per
// framework, format hegui.dev/catalog/v1, documented in docs/compliance.md):
//
//	gbt22239-2019-l3.yaml  GB/T 22239-2019 (等保2.0), level 3
//	gbt39786-2021-l3.yaml  GB/T 39786-2021 (密评), level 3
//	nist-ssdf-1.1.yaml     NIST SP 800-218 SSDF v1.1
//	slsa-1.0-build.yaml    SLSA v1.0 build track
//	gdpr.yaml              GDPR (EU 2016/679)
//	pipl.yaml              PIPL (个人信息保护法)
//
// The paraphrases are hegui's own words, not the standards' text. Package
// internal/compliance reads and evaluates them.
package catalogs

import "embed"

// Files are the catalog files.
//
//go:embed *.yaml
var Files embed.FS
