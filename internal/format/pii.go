package format

// PIIJSONFile is the personal-information inventory of the module's files
// (hegui.dev/pii-inventory/v1, as `hegui pii scan --json` writes it; every
// value masked).
const PIIJSONFile = "pii.json"

// PIISection is the personal information the pii stage found in the
// module's own files (fixtures, configs, logs).
type PIISection struct {
	Status ScanState `json:"status"`
	Reason string    `json:"reason,omitempty"` // why it was skipped
	Files  []string  `json:"files"`
	Scan   *PIIScan  `json:"scan,omitempty"`
}

// PIIScan is what report.json keeps of the inventory: counts by kind, and
// which kinds the policy's gate fails on.
type PIIScan struct {
	// FilesRead counts the files read; Skipped those passed over (binary,
	// too large, unreadable), which pii.json lists.
	FilesRead int `json:"filesRead"`
	Skipped   int `json:"skipped"`
	// Total counts every finding; Gating those of the FailOn kinds.
	Total  int       `json:"total"`
	Gating int       `json:"gating"`
	FailOn []string  `json:"failOn"`
	Kinds  []PIIKind `json:"kinds"`
}

// PIIKind counts the findings of one kind.
type PIIKind struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
	Files int    `json:"files"`
	// Gates is set when the kind is one the policy fails on.
	Gates   bool     `json:"gates"`
	Samples []string `json:"samples"` // masked
}
