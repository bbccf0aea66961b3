package mask

import (
	"strings"
	"testing"
)

type customer struct {
	Name      string `mask:"scan"`
	IDNo      string `mask:"idcard,show=kyc"`
	Phone     string `mask:"mobile,show=support|kyc"`
	Email     string `mask:"email,need=marketing"`
	Password  string `mask:"redact"`
	Birthday  int    `mask:"need=kyc"`
	Note      string
	Addresses []*address
	Extra     map[string]*address
	secret    string
}

type address struct {
	City   string
	Street string `mask:"need=delivery"`
	Phone  string `mask:"mobile"`
}

func newCustomer() *customer {
	return &customer{
		Name: "张三 13812345678", IDNo: "11010519491231002X", Phone: "13812345678", Email: "zhang.san@hegui.dev",
		Password: "hunter2", Birthday: 19491231, Note: "VIP", secret: "s",
		Addresses: []*address{{City: "北京", Street: "长安街1号", Phone: "13912345678"}, nil},
		Extra:     map[string]*address{"work": {City: "上海", Street: "南京路2号", Phone: "13712345678"}},
	}
}

func TestStruct(t *testing.T) {
	c := newCustomer()
	if err := Struct(c, nil); err != nil {
		t.Fatal(err)
	}
	want := customer{Name: "张三 138****5678", IDNo: "110***********002X", Phone: "138****5678", Note: "VIP", secret: "s"}
	if c.Name != want.Name || c.IDNo != want.IDNo || c.Phone != want.Phone || c.Email != "" || c.Password != "" || c.Birthday != 0 || c.Note != "VIP" || c.secret != "s" {
		t.Fatalf("Struct with nothing allowed: %+v", c)
	}
	if a := c.Addresses[0]; a.City != "北京" || a.Street != "" || a.Phone != "139****5678" {
		t.Fatalf("nested: %+v", a)
	}
	if a := c.Extra["work"]; a.Street != "" || a.Phone != "137****5678" {
		t.Fatalf("in a map: %+v", a)
	}
	// A KYC caller sees the ID number and phone whole and the birthday;
	// marketing consent keeps the e-mail address, masked.
	c = newCustomer()
	if err := Struct(c, Allowed{"kyc": true, "marketing": true}); err != nil {
		t.Fatal(err)
	}
	if c.IDNo != "11010519491231002X" || c.Phone != "13812345678" || c.Birthday != 19491231 || c.Email != "z********@hegui.dev" || c.Password != "" {
		t.Fatalf("Struct for kyc and marketing: %+v", c)
	}
}

func TestStructRefuses(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{customer{}, "pointer to a struct"},
		{&struct {
			X string `mask:"ssn"`
		}{"1"}, `"ssn" is not a kind`},
		{&struct {
			X int `mask:"mobile"`
		}{1}, "only strings"},
		{&struct {
			X string `mask:"mobile,idcard"`
		}{"1"}, "two actions"},
		{&struct{ X any }{address{Phone: "13812345678"}}, "cannot be changed"},
	} {
		if err := Struct(tc.v, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Struct(%T) = %v, want %q", tc.v, err, tc.want)
		}
	}
	// A cycle ends at the depth bound.
	type node struct {
		Next  *node
		Phone string `mask:"mobile"`
	}
	n := &node{Phone: "13812345678"}
	n.Next = n
	if err := Struct(n, nil); err != nil || n.Phone != "138****5678" {
		t.Fatalf("a cycle: %v %q", err, n.Phone)
	}
}
