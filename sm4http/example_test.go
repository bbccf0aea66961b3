package sm4http_test

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/emmansun/gmsm/sm2"

	"hegui.dev/hegui/sm4http"
)

func Example() {
	// The server's SM2 key; in a service, loaded from its key store.
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	server := &sm4http.Server{PrivateKey: priv}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the plaintext
		fmt.Fprintf(w, "got %q", body)
	})
	srv := httptest.NewServer(server.Handler(handler))
	defer srv.Close()

	// The client wraps a fresh SM4 key for each request with the server's
	// public key; bodies travel sealed both ways.
	client := &http.Client{Transport: &sm4http.Transport{ServerKey: &priv.PublicKey}}
	resp, err := client.Post(srv.URL, "text/plain", strings.NewReader("身份证 11010519491231002X"))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(reply))
	// Output: 200 got "身份证 11010519491231002X"
}
