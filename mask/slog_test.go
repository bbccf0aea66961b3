package mask

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(slog.NewJSONHandler(&buf, nil), LogOptions{}))
	log = log.With("remote_addr", "203.0.113.7:51234")
	log.Info("用户 13812345678 登录",
		"phone", "12345", // masked by key though not a mobile number
		"note", "身份证11010519491231002X",
		"password", "hunter2",
		slog.Group("user", "email", "zhang.san@hegui.dev", "name", "张三"),
		"card", int64(4111111111111111),
		"err", errors.New("lookup 13812345678 failed"),
		"count", 3,
	)
	out := buf.String()
	for _, want := range []string{
		`"msg":"用户 138****5678 登录"`,
		`"remote_addr":"203.0.113.*:51234"`,
		`"phone":"*****"`,
		`"note":"身份证110***********002X"`,
		`"password":"[REDACTED]"`,
		`"user":{"email":"z********@hegui.dev","name":"张三"}`,
		`"card":"411111******1111"`,
		`"err":"lookup 138****5678 failed"`,
		`"count":3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	for _, leak := range []string{"13812345678", "11010519491231002X", "hunter2", "zhang.san", "4111111111111111", "203.0.113.7"} {
		if strings.Contains(out, leak) {
			t.Errorf("the log leaks %s:\n%s", leak, out)
		}
	}
}

func TestReplaceAttr(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr(LogOptions{Keys: map[string]Kind{"Contact": Mobile}, Secrets: []string{"PIN"}})}))
	log.Info("hello", "contact", "13812345678", "pin", "1234", "token", "abc")
	out := buf.String()
	if !strings.Contains(out, "contact=138****5678") || !strings.Contains(out, "pin=[REDACTED]") || !strings.Contains(out, "token=abc") {
		t.Fatalf("ReplaceAttr with own keys and secrets:\n%s", out)
	}
}

// BenchmarkLogHandler logs a record with ten attributes, one of them
// personal, through the masking handler, through ReplaceAttr and, for the
// difference, without either.
func BenchmarkLogHandler(b *testing.B) {
	attrs := []any{
		"user_id", 42, "path", "/api/v1/orders", "method", "POST", "status", 200, "latency_ms", 12.5,
		"phone", "13812345678", "note", "first order of the day", "region", "cn-north-1", "retry", false, "size", 2048,
	}
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"plain", slog.NewJSONHandler(discard{}, nil)},
		{"masked", NewLogHandler(slog.NewJSONHandler(discard{}, nil), LogOptions{})},
		{"replaceattr", slog.NewJSONHandler(discard{}, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr(LogOptions{})})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log := slog.New(bc.h)
			b.ReportAllocs()
			for b.Loop() {
				log.Info("order placed", attrs...)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestPlainText checks the shortcut against the scanner: whatever the
// scanner finds (at any score) is not plain.
func TestPlainText(t *testing.T) {
	for _, v := range []string{
		"13812345678", "11010519491231002X", "a@b.cn", "1.2.3.4", "fe80::1", "2001:db8::1", "京A12345", "粤Z1234港",
		"EA1234567", "+44 20 7183 8750", "6222 0210 0112 3456 789", "DE89370400440532013000", "203.0.113.7:443",
	} {
		if plainText(v) {
			t.Errorf("plainText(%q) = true", v)
		}
	}
	for _, v := range []string{"/api/v1/orders", "cn-north-1", "first order of the day", "v2 ready", "张三"} {
		if !plainText(v) {
			t.Errorf("plainText(%q) = false", v)
		}
	}
}

// FuzzPlainText checks that plainText never hides what the scanner finds.
func FuzzPlainText(f *testing.F) {
	f.Add("京A12345")
	f.Add("1.2.3.4")
	s := NewScanner(WithThreshold(0))
	f.Fuzz(func(t *testing.T, v string) {
		if plainText(v) && len(s.Find(v)) > 0 {
			t.Fatalf("plainText(%q) but the scanner finds %v", v, s.Find(v))
		}
	})
}
