package mask

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// logText is about size bytes of a service's log, in Chinese and English,
// one line in four holding personal information.
func logText(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		m, sec := i/60%60, i%60
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "2026-12-07T10:%02d:%02d INFO order %d created for user %d, total 128.50 CNY, items=3\n", m, sec, i, i%10000)
		case 1:
			fmt.Fprintf(&b, "2026-12-07T10:%02d:%02d INFO 用户 %d 登录成功，手机 1381234%04d，来源 203.0.113.%d\n", m, sec, i, i%10000, i%250)
		case 2:
			fmt.Fprintf(&b, "2026-12-07T10:%02d:%02d WARN request /api/v1/orders/%d took %dms (slow), retry=false\n", m, sec, i, i%900)
		case 3:
			fmt.Fprintf(&b, "2026-12-07T10:%02d:%02d INFO 实名认证：身份证 11010519491231002X，姓名 张三，订单 %d，渠道 %d\n", m, sec, i, i%7)
		}
	}
	return b.String()
}

func BenchmarkFind(b *testing.B) {
	text := logText(1 << 20)
	s := NewScanner()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Find(text)
	}
}

func BenchmarkString(b *testing.B) {
	text := logText(1 << 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		String(text)
	}
}

// BenchmarkStringCorpus masks the labelled corpus's text, as
// scripts/bench-mask.sh does beside godlp.
func BenchmarkStringCorpus(b *testing.B) {
	data, err := os.ReadFile(corpusFile)
	if err != nil {
		b.Fatal(err)
	}
	var text strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l corpusLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			b.Fatal(err)
		}
		text.WriteString(l.Text + "\n")
	}
	s := text.String()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		String(s)
	}
}
