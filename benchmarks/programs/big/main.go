package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	ttemplate "text/template"
	"time"
	"unicode/utf8"
)

const build = "v1" // the line the benchmark changes

type Item struct {
	Name  string            `json:"name" xml:"name"`
	Tags  []string          `json:"tags" xml:"tag"`
	Attrs map[string]string `json:"attrs" xml:"-"`
}

func main() {
	var out bytes.Buffer
	items := []Item{{Name: "a", Tags: []string{"x"}, Attrs: map[string]string{"k": "v"}}}
	j, _ := json.Marshal(items)
	x, _ := xml.Marshal(items)
	var g bytes.Buffer
	_ = gob.NewEncoder(&g).Encode(items)
	b64 := base64.StdEncoding.EncodeToString(j)
	fmt.Fprintln(&out, build, string(j), string(x), g.Len(), b64, hex.EncodeToString(x[:4]))
	_ = csv.NewWriter(&out).Write([]string{"a", "b"})

	t := ttemplate.Must(ttemplate.New("t").Parse("{{range .}}{{.Name}}{{end}}"))
	_ = t.Execute(&out, items)
	h := template.Must(template.New("h").Parse("<p>{{.}}</p>"))
	_ = h.Execute(&out, "<script>")
	re := regexp.MustCompile(`(\w+)@(\w+)\.com`)
	fmt.Fprintln(&out, re.FindAllStringSubmatch("a@b.com c@d.com", -1))

	sum := sha256.Sum256(j)
	sum5 := sha512.Sum512(x)
	mac := hmac.New(sha256.New, sum[:])
	mac.Write(j)
	block, _ := aes.NewCipher(sum[:])
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := gcm.Seal(nil, nonce, j, nil)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sig, _ := ecdsa.SignASN1(rand.Reader, ek, sum[:])
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	tmpl := x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &rk.PublicKey, rk)
	edsig := ed25519.Sign(edk, j)
	fmt.Fprintln(&out, len(sum5), len(mac.Sum(nil)), len(sealed), len(sig), len(edsig), len(der))

	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	_ = png.Encode(&out, img)
	_ = jpeg.Encode(&out, img, nil)
	_ = gif.Encode(&out, img, nil)

	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(j)
	zw.Close()
	fw, _ := flate.NewWriter(&z, 9)
	fw.Write(x)
	fw.Close()
	tw := tar.NewWriter(&z)
	tw.WriteHeader(&tar.Header{Name: "a", Size: 1, Mode: 0o644})
	tw.Write([]byte("a"))
	tw.Close()
	zipw := zip.NewWriter(&z)
	f, _ := zipw.Create("a")
	f.Write(j)
	zipw.Close()
	mw := multipart.NewWriter(&z)
	mw.WriteField("a", "b")
	mw.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write(j) })
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/?q=1", nil))
	u, _ := url.Parse("https://example.org/a?b=c")
	addr, _ := mail.ParseAddress("A <a@example.org>")
	tab := tabwriter.NewWriter(&out, 0, 8, 1, ' ', 0)
	fmt.Fprintln(tab, "a\tb")
	tab.Flush()
	keys := []string{"b", "a"}
	sort.Strings(keys)
	runes := utf8.RuneCountInString("héllo")
	fmt.Println(out.Len(), rec.Code, u.Host, addr.Name, strings.Join(keys, ","), runes, z.Len())
}
