package deliver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"hegui.dev/hegui/internal/deliver/delivery"
	"hegui.dev/hegui/internal/deliver/deliverytest"
)

type fakeStage struct {
	name string
	run  func(*delivery.Delivery) error
}

func (s fakeStage) Name() string                                      { return s.name }
func (s fakeStage) Run(_ context.Context, d *delivery.Delivery) error { return s.run(d) }

// TestRunRecordsSkips: a stage that returns a skip is recorded with its
// reason, its warning is reported, and the delivery goes on to publish;
// a stage that fails stops it and leaves nothing behind.
func TestRunRecordsSkips(t *testing.T) {
	saved := Stages
	t.Cleanup(func() { Stages = saved })
	write := fakeStage{"write", func(d *delivery.Delivery) error { return os.WriteFile(d.Path("x"), []byte("x"), 0o644) }}
	quiet := fakeStage{"quiet", func(*delivery.Delivery) error { return delivery.Skip("nothing to do") }}
	loud := fakeStage{"loud", func(*delivery.Delivery) error { return delivery.SkipWithWarning("off", "loud skipped: off") }}
	Stages = []delivery.Stage{write, quiet, loud}

	d := deliverytest.New(t)
	if err := Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.FinalDir, "x")); err != nil {
		t.Errorf("not published: %v", err)
	}
	var skipped []string
	for _, r := range d.Stages {
		skipped = append(skipped, r.Name+":"+r.Skipped)
	}
	if want := []string{"write:", "quiet:nothing to do", "loud:off"}; !slices.Equal(skipped, want) {
		t.Errorf("stages %q, want %q", skipped, want)
	}
	if !slices.Equal(d.Warnings, []string{"loud skipped: off"}) {
		t.Errorf("warnings %q", d.Warnings)
	}
	if reason, ok := d.Skipped("quiet"); !ok || reason != "nothing to do" {
		t.Errorf("Skipped(quiet) = %q, %v", reason, ok)
	}

	Stages = []delivery.Stage{write, fakeStage{"fail", func(*delivery.Delivery) error { return errors.New("broken") }}}
	d = deliverytest.New(t)
	if err := Run(context.Background(), d); err == nil || err.Error() != "fail: broken" {
		t.Errorf("failing stage: %v", err)
	}
	if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
		t.Errorf("the failed delivery's staging directory is left: %v", err)
	}
}
