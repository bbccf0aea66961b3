// Package translog is the client side of a hegui transparency audit log: the
// audit event format, the checkpoint keys, proofs, a client that checks a
// log, and a log/slog handler that writes a service's audit events into one.
// The server is `hegui log serve`; this package is what other Go programs
// import to write to it and to check it.
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
// (NewSM2Signer, VerifierKey). A Client accepts a checkpoint only when every
// key it was given signed it.
//
// What a Client checks:
//
//   - Inclusion: an entry is in the tree of a checkpoint (Client.Inclusion,
//     InclusionProof in the C2SP tlog-proof format, verifiable offline).
//   - Consistency: a later checkpoint extends an earlier one
//     (Client.Consistency); SeenStore and Client.Advance keep the last
//     checkpoint a client verified, so a rolled-back or forked log is
//     reported as a *ForkError.
//   - The whole tree: every entry, every hash tile and the signed root
//     (Client.VerifyTree); a *CorruptionError names the first file that
//     disagrees.
//
// Writing: HTTPAppender appends events to a server (POST /add);
// NewHandler wraps an Appender as a log/slog handler with a bounded buffer,
// a backpressure choice and a spool file for outages.
//
// The package does not run a log (see `hegui log serve`), does not witness
// checkpoints, and trusts nothing it reads until a signature or a proof
// vouches for it.
package translog
