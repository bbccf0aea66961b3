package modproxy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hegui.dev/hegui/internal/modproxy"
	"hegui.dev/hegui/translog"
	"hegui.dev/hegui/translog/logclient"
)

// TestAuditLog records every fetch and a refusal in a real audit log, with
// the client's identity, then reads them back from the log with proofs.
func TestAuditLog(t *testing.T) {
	up := upstream(t)
	lg := startLog(t, "proxy.*")
	sink, err := modproxy.NewAuditSink(lg.URL, lg.Token, modproxy.AuditOptions{Fetches: modproxy.FetchesAll, SpoolPath: t.TempDir() + "/audit.spool"})
	if err != nil {
		t.Fatal(err)
	}
	token := "hgp_" + strings.Repeat("c", 43)
	line, _ := modproxy.TokenLine("ci-runner", token)
	_, auth, err := modproxy.ParseTokens([]byte(line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	policy := &modproxy.Policy{Deny: []modproxy.Rule{{Module: "golang.org/x/text", Reason: "not approved"}}}
	if err := policy.Compile(); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "", modproxy.Options{Upstream: up, Events: sink, Policy: policy, Auth: auth})
	bearer := []string{"Authorization", "Bearer " + token}
	if code, body := get(t, p.URL+"/github.com/google/uuid/@v/v1.6.0.zip", bearer...); code != 200 {
		t.Fatalf("zip: %d %s", code, body)
	}
	if code, _ := get(t, p.URL+"/golang.org/x/text/@v/v0.14.0.zip", bearer...); code != 403 {
		t.Fatalf("denied zip: %d", code)
	}
	// A refusal naming many advisories (github.com/mattermost/mattermost-server/v5
	// v5.30.0 has 185 in the Go vulnerability database) is logged
	// shortened, not refused by the log.
	sink.Event(context.Background(), modproxy.Event{Action: "proxy.refuse", Client: "ci-runner", Module: "example.com/m", Version: "v1.0.0",
		Outcome: "failure", Reason: "affected by " + strings.Repeat("GO-2099-0001, ", 200)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Sent != 3 || st.Dropped != 0 || st.Rejected != 0 {
		t.Fatalf("audit sink stats %+v", st)
	}

	src, err := logclient.OpenSource(lg.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := logclient.NewClient(src, lg.Keys)
	if err != nil {
		t.Fatal(err)
	}
	var cp translog.Checkpoint
	for cp.Size < 3 {
		if ctx.Err() != nil {
			t.Fatalf("the log has %d entries, want 3", cp.Size)
		}
		time.Sleep(50 * time.Millisecond)
		if cp, err = c.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]translog.Event{}
	for i := range cp.Size {
		entry, _, _, err := c.ProvenEntry(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := translog.ParseEvent(entry)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Object == "example.com/m@v1.0.0" {
			if r := ev.Attributes["reason"]; len(r) > 1000 || !strings.HasSuffix(r, "…") {
				t.Errorf("long reason logged as %d bytes %q", len(r), r)
			}
			continue
		}
		got[ev.Action] = ev
	}
	fetch, refuse := got["proxy.fetch"], got["proxy.refuse"]
	if fetch.Actor != "client:ci-runner" || fetch.Object != "github.com/google/uuid@v1.6.0" || fetch.Outcome != translog.OutcomeSuccess {
		t.Errorf("fetch event %+v", fetch)
	}
	if refuse.Actor != "client:ci-runner" || refuse.Object != "golang.org/x/text@v0.14.0" || refuse.Outcome != translog.OutcomeFailure || !strings.Contains(refuse.Attributes["reason"], "not approved") {
		t.Errorf("refusal event %+v", refuse)
	}
}

// TestAuditSampling records one fetch in three, and refuses settings that
// make no sense.
func TestAuditSampling(t *testing.T) {
	if _, err := modproxy.NewAuditSink("http://127.0.0.1:1", "t", modproxy.AuditOptions{Fetches: "some"}); err == nil {
		t.Error("fetches: some was accepted")
	}
	if _, err := modproxy.NewAuditSink("http://127.0.0.1:1", "t", modproxy.AuditOptions{Fetches: modproxy.FetchesSample}); err == nil {
		t.Error("sampling with no rate was accepted")
	}
	up := upstream(t)
	lg := startLog(t, "proxy.*")
	sink, err := modproxy.NewAuditSink(lg.URL, lg.Token, modproxy.AuditOptions{Fetches: modproxy.FetchesSample, SampleEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "", modproxy.Options{Upstream: up, Events: sink})
	for range 6 {
		if code, body := get(t, p.URL+"/github.com/google/uuid/@v/v1.6.0.zip"); code != 200 {
			t.Fatalf("zip: %d %s", code, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Sent != 2 {
		t.Errorf("6 fetches sampled 1 in 3: %d sent (%+v)", st.Sent, st)
	}
}
