package mask_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"hegui.dev/hegui/mask"
)

func ExampleString() {
	fmt.Println(mask.String("身份证 11010519491231002X，手机 138-1234-5678，卡号 6222021001123456789"))
	// Output: 身份证 110***********002X，手机 138-****-5678，卡号 622202*********6789
}

func ExampleScanner_Find() {
	s := mask.NewScanner()
	for _, f := range s.Find("订单号 13812345678 已发货；联系人手机 13912345678；护照 EA1234567") {
		fmt.Printf("%s %q score %.2f", f.Kind, f.Value, f.Score)
		if f.Detail != "" {
			fmt.Printf(" (%s)", f.Detail)
		}
		fmt.Println()
	}
	// Output:
	// mobile "13912345678" score 0.95
	// passport "EA1234567" score 0.80 (PRC ordinary (e-passport))
}

func ExampleRedactor() {
	key := bytes.Repeat([]byte{0x42}, 16) // in a service: from a key store, never in code
	pseudonym, _ := mask.NewPseudonym(key)
	r := &mask.Redactor{Operators: map[mask.Kind]mask.Operator{
		mask.Mobile: pseudonym,
		mask.IDCard: mask.Replace{},
	}}
	out, _, _ := r.Redact("user 13812345678 id 11010519491231002X")
	fmt.Println(out)
	// Output: user mobile_fce6d10c46b0c0ea id <IDCARD>
}

func ExampleNewLogHandler() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{} // keep the example's output fixed
		}
		return a
	}})
	log := slog.New(mask.NewLogHandler(h, mask.LogOptions{}))
	log.Info("login from 13812345678", "phone", "13812345678", "password", "hunter2", "note", "card 6222021001123456789")
	// Output: level=INFO msg="login from 138****5678" phone=138****5678 password=[REDACTED] note="card 622202*********6789"
}

func ExampleMaskJSON() {
	in := `{"user":{"name":"张三","mobile":"13812345678","token":"abc"},"note":"身份证 11010519491231002X"}`
	var out strings.Builder
	if err := mask.MaskJSON(&out, strings.NewReader(in), mask.JSONOptions{}); err != nil {
		panic(err)
	}
	fmt.Println(out.String())
	// Output: {"user":{"name":"张三","mobile":"138****5678","token":"[REDACTED]"},"note":"身份证 110***********002X"}
}
