// Package web serves Switchyard's browser client: a static page, script and
// style sheet embedded in the binary, with no build step and nothing fetched
// from elsewhere. docs/protocol.md describes what the client speaks.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every response of Handler. The page
// loads only its own script and style, talks only to its own origin (HTTP
// and WebSocket), and plays only local or remote media streams.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; img-src 'self' data:"

type file struct {
	name  string // base name, for ServeContent
	ctype string
	etag  string
	data  []byte
}

// Handler serves the embedded client at the root: index.html at "/" (and
// "/index.html"), every other file of web/static at "/<name>". Anything else
// is 404; methods other than GET and HEAD are 405. Responses carry
// Cache-Control: no-cache with a content ETag, so a new binary is picked up
// at once, plus the Content-Security-Policy above.
func Handler() http.Handler {
	files := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/" {
			p = "/index.html"
		}
		f, ok := files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
	})
}

// load reads every regular file under static into memory, keyed by its URL
// path. The embedded tree is fixed at build time, so an error is a bug.
func load() map[string]file {
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	files := make(map[string]file)
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(data)
		}
		sum := sha256.Sum256(data)
		files["/"+name] = file{
			name:  path.Base(name),
			ctype: ctype,
			etag:  `"` + hex.EncodeToString(sum[:8]) + `"`,
			data:  data,
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return files
}
