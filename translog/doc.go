// Package translog is what a service imports to write to a hegui
// transparency audit log and to check what the log says: the audit event
// format, the HTTP appender, a log/slog handler, checkpoint keys, and
// inclusion and consistency proofs. It compiles with the standard library,
// gmsm and four small libraries made for the format (TestServiceDependencyBudget);
// reading and checking a whole log (tiles, monitors) is package logclient,
// and the server is `hegui log serve`.
//
// A log is a C2SP tlog-tiles Merkle tree (https://c2sp.org/tlog-tiles) whose
// entries are audit events in canonical JSON (Event.Canonical, RFC 8785):
//
//	{"action":"user.login","actor":"alice","outcome":"success",
//	 "schema":"hegui.dev/audit-event/v1","time":"2026-11-21T08:00:00Z"}
//
// Every checkpoint (origin, tree size, RFC 6962 root) is a signed note
// (https://c2sp.org/signed-note) carrying an Ed25519 signature, which
// witnesses and every tlog tool verify, and an SM2 signature in the
// signed-note extension type 0xff followed by the identifier "SM2-SM3"
// (NewSM2Signer, VerifierKey). OpenCheckpoint accepts a checkpoint only
// when every key it was given signed it.
//
// Proofs: InclusionProof (the C2SP tlog-proof format, verifiable offline)
// shows an entry is in the tree of a checkpoint; VerifyConsistency shows a
// later checkpoint extends an earlier one. logclient.Client fetches them
// from a log, keeps the last checkpoint it verified (a rolled-back or
// forked log is a *logclient.ForkError), and checks a whole tree.
//
// Writing: HTTPAppender appends events to a server (POST /add), one at a
// time or in a batch that ParseEvents can read from NDJSON;
// NewHandler wraps an Appender as a log/slog handler with a bounded buffer,
// a backpressure choice and a spool file for outages (handler.go; records
// become events in record.go, the sender in sender.go delivers them and
// spool.go keeps them through outages).
//
// The package does not run a log (see `hegui log serve`), does not witness
// checkpoints, and trusts nothing it reads until a signature or a proof
// vouches for it.
package translog
