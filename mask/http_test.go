package mask

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestMiddleware(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", "999")
		io.WriteString(w, `{"id":"`+r.PathValue("id")+`","mobile":"13812345678",`)
		io.WriteString(w, `"cert":"11010519491231002X","note":"card 6222021001123456789"}`)
	})
	mux.HandleFunc("GET /kyc/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"cert":"11010519491231002X","mobile":"13812345678"}`)
	})
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "第一行 手机 138")
		io.WriteString(w, "12345678\n第二行 身份证 11010519491231002X\n末行 13912345678")
	})
	mux.HandleFunc("/raw/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "13812345678")
	})
	mux.HandleFunc("/image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, "\x89PNG 13812345678")
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"mobile":"13812345678"} not json 13912345678`)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNoContent)
	})
	var mu sync.Mutex
	var logged []string
	m := &Middleware{
		Routes: map[string]Rule{
			"GET /kyc/{id}": {JSON: JSONOptions{Keys: map[string]Kind{}}}, // by value only
			"/raw/":         {Off: true},
		},
		ErrorLog: func(r *http.Request, err error) {
			mu.Lock()
			logged = append(logged, r.URL.Path+": "+err.Error())
			mu.Unlock()
		},
	}
	srv := httptest.NewServer(m.Handler(mux))
	defer srv.Close()
	get := func(path string) (string, *http.Response) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), resp
	}
	for path, want := range map[string]string{
		"/users/7": `{"id":"7","mobile":"138****5678","cert":"110***********002X","note":"card 622202*********6789"}`,
		"/kyc/7":   `{"cert":"110***********002X","mobile":"138****5678"}`,
		"/files/a": "第一行 手机 138****5678\n第二行 身份证 110***********002X\n末行 139****5678",
		"/raw/a":   "13812345678",
		"/image":   "\x89PNG 13812345678",
		"/broken":  "", // nothing unmasked; the valid start is not sent either
		"/empty":   "",
	} {
		body, resp := get(path)
		if body != want {
			t.Errorf("GET %s = %q, want %q", path, body, want)
		}
		if path == "/users/7" && resp.Header.Get("Content-Length") == "999" {
			t.Errorf("the handler's Content-Length was kept")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 1 || !strings.HasPrefix(logged[0], "/broken: ") {
		t.Fatalf("ErrorLog: %q", logged)
	}
}
