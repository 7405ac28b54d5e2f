package main

// The dependency set that takes the big program to about 18 MB of wasm: well-known modules
// from the Go module proxy, pinned in go.mod and go.sum, each used so the linker keeps it.

import (
	"bytes"
	"fmt"
	"image"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/PuerkitoBio/goquery"
	"github.com/microcosm-cc/bluemonday"
	gotoml "github.com/pelletier/go-toml/v2"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
	"gopkg.in/yaml.v3"
)

type settings struct {
	Title string   `toml:"title" yaml:"title"`
	Tags  []string `toml:"tags" yaml:"tags"`
}

func init() {
	var page bytes.Buffer
	md := goldmark.New(goldmark.WithExtensions(extension.GFM))
	_ = md.Convert([]byte("# Title\n\n| a | b |\n|---|---|\n| ~~x~~ | https://example.org |\n"), &page)

	var fromYAML, fromTOML, fromTOML2 settings
	_ = yaml.Unmarshal([]byte("title: a\ntags: [x, y]\n"), &fromYAML)
	_, _ = toml.Decode("title = \"b\"\ntags = [\"z\"]\n", &fromTOML)
	_ = gotoml.Unmarshal([]byte("title = \"c\"\n"), &fromTOML2)
	again, _ := yaml.Marshal(fromTOML)

	clean := bluemonday.UGCPolicy().Sanitize(page.String() + `<a onclick="x()" href="/a">a</a>`)
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(clean))
	links := doc.Find("a[href]").Length()

	font, _ := opentype.Parse(goregular.TTF)
	src := image.NewRGBA(image.Rect(0, 0, 16, 16))
	dst := image.NewRGBA(image.Rect(0, 0, 8, 8))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
	var img bytes.Buffer
	_ = bmp.Encode(&img, dst)
	_ = tiff.Encode(&img, dst, nil)

	fmt.Println(page.Len(), fromYAML, fromTOML2, len(again), links, font.NumGlyphs(), img.Len())
}
