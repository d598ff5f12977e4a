package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The plot is drawn by hand on an RGBA image: two panels, the latency CDF
// of every step (log-scaled x) and forwarded packets per server core
// against N. Small enough not to need a plotting library.
const (
	plotW, plotH = 1000, 420
	panelW       = 440
	margin       = 50
)

var (
	black   = color.RGBA{0, 0, 0, 255}
	grey    = color.RGBA{210, 210, 210, 255}
	palette = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}}
)

type panel struct {
	img        *image.RGBA
	x0, y0     int // bottom-left corner of the plotting area
	w, h       int
	xmin, xmax float64
	ymin, ymax float64
	logX       bool
}

func (p *panel) px(x, y float64) (int, int) {
	fx := (x - p.xmin) / (p.xmax - p.xmin)
	if p.logX {
		fx = (math.Log10(x) - math.Log10(p.xmin)) / (math.Log10(p.xmax) - math.Log10(p.xmin))
	}
	fy := (y - p.ymin) / (p.ymax - p.ymin)
	return p.x0 + int(fx*float64(p.w)), p.y0 - int(fy*float64(p.h))
}

func (p *panel) line(x1, y1, x2, y2 float64, c color.Color) {
	ax, ay := p.px(x1, y1)
	bx, by := p.px(x2, y2)
	drawLine(p.img, ax, ay, bx, by, c)
}

func drawLine(img *image.RGBA, x1, y1, x2, y2 int, c color.Color) {
	steps := max(abs(x2-x1), abs(y2-y1), 1)
	for i := 0; i <= steps; i++ {
		x := x1 + (x2-x1)*i/steps
		y := y1 + (y2-y1)*i/steps
		img.Set(x, y, c)
		img.Set(x, y+1, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func label(img *image.RGBA, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func (p *panel) frame(title, xlabel string) {
	drawLine(p.img, p.x0, p.y0, p.x0+p.w, p.y0, black)
	drawLine(p.img, p.x0, p.y0, p.x0, p.y0-p.h, black)
	label(p.img, p.x0, p.y0-p.h-10, black, title)
	label(p.img, p.x0+p.w/2-len(xlabel)*3, p.y0+32, black, xlabel)
}

func writePlot(path string, steps []stepResult) error {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

	// Left: latency CDF, 0.05 ms … max on a log axis.
	lat := &panel{img: img, x0: margin + 10, y0: plotH - margin, w: panelW, h: plotH - 2*margin - 20, xmin: 0.05, xmax: 1, ymin: 0, ymax: 1, logX: true}
	for _, s := range steps {
		if s.latency != nil && s.Latency.Max > lat.xmax {
			lat.xmax = s.Latency.Max
		}
	}
	lat.xmax = math.Pow(10, math.Ceil(math.Log10(lat.xmax)))
	for d := lat.xmin; d <= lat.xmax*1.001; d *= 10 {
		x, _ := lat.px(d, 0)
		drawLine(img, x, lat.y0, x, lat.y0-lat.h, grey)
		label(img, x-10, lat.y0+15, black, fmt.Sprintf("%g", d))
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		_, y := lat.px(lat.xmin, q)
		drawLine(img, lat.x0, y, lat.x0+lat.w, y, grey)
		label(img, lat.x0-40, y+4, black, fmt.Sprintf("p%g", q*100))
	}
	lat.frame("latency CDF (send -> receive, loopback)", "ms (log)")
	for i, s := range steps {
		if s.latency == nil {
			continue
		}
		xs, ys := s.latency.cdf()
		c := palette[i%len(palette)]
		for j := 1; j < len(xs); j++ {
			lat.line(max(xs[j-1], lat.xmin), ys[j-1], max(xs[j], lat.xmin), ys[j], c)
		}
		label(img, lat.x0+lat.w-60, lat.y0-60+15*i, c, fmt.Sprintf("N=%d", s.N))
	}

	// Right: forwarded packets per server CPU-second against N.
	pps := &panel{img: img, x0: margin + panelW + 110, y0: plotH - margin, w: panelW - 110, h: plotH - 2*margin - 20, ymin: 0}
	pps.xmin, pps.xmax = float64(steps[0].N), float64(steps[0].N)
	for _, s := range steps {
		pps.xmin = min(pps.xmin, float64(s.N))
		pps.xmax = max(pps.xmax, float64(s.N))
		pps.ymax = max(pps.ymax, s.PacketsPerCoreSec)
	}
	if pps.xmax == pps.xmin {
		pps.xmin, pps.xmax = pps.xmin-1, pps.xmax+1
	}
	pps.ymax = max(pps.ymax*1.15, 1)
	if pps.xmin > 0 && pps.xmax/pps.xmin >= 10 {
		pps.logX = true
		pps.xmin, pps.xmax = pps.xmin/1.5, pps.xmax*1.5
	}
	for i := 0; i <= 4; i++ {
		v := pps.ymax * float64(i) / 4
		_, y := pps.px(pps.xmin, v)
		drawLine(img, pps.x0, y, pps.x0+pps.w, y, grey)
		label(img, pps.x0-55, y+4, black, fmt.Sprintf("%.0fk", v/1000))
	}
	pps.frame("forwarded packets per server CPU-second", "N")
	for i, s := range steps {
		x, y := pps.px(float64(s.N), s.PacketsPerCoreSec)
		label(img, x-8, pps.y0+15, black, fmt.Sprint(s.N))
		for dx := -3; dx <= 3; dx++ {
			for dy := -3; dy <= 3; dy++ {
				img.Set(x+dx, y+dy, palette[0])
			}
		}
		if i > 0 {
			pps.line(float64(steps[i-1].N), steps[i-1].PacketsPerCoreSec, float64(s.N), s.PacketsPerCoreSec, palette[0])
		}
		label(img, x+6, y-6, black, fmt.Sprintf("%.1f us/pkt", s.ServerCPUPerPacket))
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
