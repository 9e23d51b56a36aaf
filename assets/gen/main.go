// Command gen draws worktray's icons and writes them as PNG files into assets/icons. The icons are
// drawn as code (signed-distance shapes, 4×4 supersampled) so that they can be changed and
// regenerated without an image editor:
//
//	go generate ./assets
//
// Every icon is a clipboard holding a work order. The tray icons add a badge for the scheduler's
// state: none when idle, circling arrows while running, a clock when overdue, an exclamation mark
// when failing, pause bars when paused (and the clipboard turns grey), a red stop sign with a bar
// when the scheduler is stuck, and a plus sign while no portal is set up (the clipboard grey).
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "icons", "directory to write the PNG files to")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	icons := map[string]image.Image{
		"app.png":          draw(256, ""),
		"app-48.png":       draw(48, ""),
		"tray-idle.png":    draw(64, "idle"),
		"tray-running.png": draw(64, "running"),
		"tray-overdue.png": draw(64, "overdue"),
		"tray-failing.png": draw(64, "failing"),
		"tray-paused.png":  draw(64, "paused"),
		"tray-stuck.png":   draw(64, "stuck"),
		"tray-setup.png":   draw(64, "setup"),
	}
	for name, img := range icons {
		if err := write(filepath.Join(*out, name), img); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// A shape is a signed distance function over the unit square (0..1 both ways, y down):
// negative inside, positive outside.
type shape func(x, y float64) float64

// layer is a shape filled with one colour.
type layer struct {
	s shape
	c color.NRGBA
}

var (
	blue     = color.NRGBA{0x1f, 0x6f, 0xc9, 0xff}
	darkBlue = color.NRGBA{0x12, 0x3f, 0x78, 0xff}
	grey     = color.NRGBA{0x7a, 0x80, 0x88, 0xff}
	darkGrey = color.NRGBA{0x4a, 0x4f, 0x56, 0xff}
	paper    = color.NRGBA{0xfb, 0xfb, 0xf8, 0xff}
	ink      = color.NRGBA{0x8a, 0x97, 0xa8, 0xff}
	green    = color.NRGBA{0x2e, 0x9d, 0x4f, 0xff}
	amber    = color.NRGBA{0xf0, 0xa2, 0x02, 0xff}
	red      = color.NRGBA{0xd6, 0x2f, 0x2f, 0xff}
	white    = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	black    = color.NRGBA{0x20, 0x20, 0x20, 0xff}
)

// draw renders the clipboard with the badge of state ("" for the app icon) at size×size pixels.
func draw(size int, state string) image.Image {
	board, clip := blue, darkBlue
	if state == "paused" || state == "setup" {
		board, clip = grey, darkGrey
	}
	layers := []layer{
		{roundRect(0.14, 0.10, 0.86, 0.96, 0.09), board},  // the board
		{roundRect(0.22, 0.20, 0.78, 0.88, 0.04), paper},  // the work order
		{roundRect(0.34, 0.05, 0.66, 0.20, 0.05), clip},   // the clip
		{roundRect(0.43, 0.085, 0.57, 0.13, 0.02), board}, // the clip's hole
		{capsule(0.31, 0.36, 0.69, 0.36, 0.028), ink},     // lines of text
		{capsule(0.31, 0.48, 0.69, 0.48, 0.028), ink},     //
		{capsule(0.31, 0.60, 0.56, 0.60, 0.028), ink},     //
		{capsule(0.31, 0.72, 0.50, 0.72, 0.028), ink},     //
	}
	if state == "" {
		// The app icon: a green tick on the order.
		layers = append(layers, layer{union(capsule(0.50, 0.70, 0.58, 0.79, 0.045), capsule(0.58, 0.79, 0.76, 0.58, 0.045)), green})
	}
	// Badges sit in the lower right corner, over the board, with a white ring to separate them.
	const bx, by, br = 0.70, 0.705, 0.25
	switch state {
	case "running":
		layers = append(layers,
			layer{circle(bx, by, br+0.035), white},
			layer{circle(bx, by, br), green},
			layer{arc(bx, by, 0.14, 0.035, 200, 340), white},
			layer{arc(bx, by, 0.14, 0.035, 20, 160), white},
			layer{triangle(arrowHead(bx, by, 0.14, 340, 0.07)), white},
			layer{triangle(arrowHead(bx, by, 0.14, 160, 0.07)), white},
		)
	case "overdue":
		layers = append(layers,
			layer{circle(bx, by, br+0.035), white},
			layer{circle(bx, by, br), amber},
			layer{ring(bx, by, 0.155, 0.03), black},
			layer{capsule(bx, by, bx, by-0.11, 0.028), black},
			layer{capsule(bx, by, bx+0.08, by, 0.028), black},
		)
	case "failing":
		layers = append(layers,
			layer{circle(bx, by, br+0.035), white},
			layer{circle(bx, by, br), red},
			layer{capsule(bx, by-0.14, bx, by+0.03, 0.04), white},
			layer{circle(bx, by+0.12, 0.042), white},
		)
	case "stuck":
		layers = append(layers,
			layer{circle(bx, by, br+0.035), white},
			layer{octagon(bx, by, br), red},
			layer{roundRect(bx-0.13, by-0.035, bx+0.13, by+0.035, 0.015), white},
		)
	case "setup":
		layers = append(layers,
			layer{circle(bx, by, br+0.035), white},
			layer{circle(bx, by, br), blue},
			layer{roundRect(bx-0.13, by-0.035, bx+0.13, by+0.035, 0.015), white},
			layer{roundRect(bx-0.035, by-0.13, bx+0.035, by+0.13, 0.015), white},
		)
	case "paused":
		layers = append(layers,
			layer{circle(bx, by, br+0.035), white},
			layer{circle(bx, by, br), darkGrey},
			layer{roundRect(bx-0.10, by-0.12, bx-0.035, by+0.12, 0.015), white},
			layer{roundRect(bx+0.035, by-0.12, bx+0.10, by+0.12, 0.015), white},
		)
	}
	return rasterize(size, layers)
}

// rasterize paints the layers in order with 4×4 supersampling.
func rasterize(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	for py := range size {
		for px := range size {
			var r, g, b, a float64
			for sy := range ss {
				for sx := range ss {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if l.s(x, y) <= 0 {
							cr, cg, cb, ca = float64(l.c.R), float64(l.c.G), float64(l.c.B), float64(l.c.A)
						}
					}
					// Accumulate premultiplied so that edges against transparency stay clean.
					r += cr * ca / 255
					g += cg * ca / 255
					b += cb * ca / 255
					a += ca
				}
			}
			n := float64(ss * ss)
			a /= n
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / n * 255 / a)), G: uint8(math.Round(g / n * 255 / a)),
				B: uint8(math.Round(b / n * 255 / a)), A: uint8(math.Round(a)),
			})
		}
	}
	return img
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) float64 { return math.Hypot(x-cx, y-cy) - r }
}

// octagon is a regular octagon with flat sides, its inscribed circle of radius r.
func octagon(cx, cy, r float64) shape {
	return func(x, y float64) float64 {
		dx, dy := math.Abs(x-cx), math.Abs(y-cy)
		return math.Max(math.Max(dx, dy), (dx+dy)/math.Sqrt2) - r
	}
}

func ring(cx, cy, r, w float64) shape {
	return func(x, y float64) float64 { return math.Abs(math.Hypot(x-cx, y-cy)-r) - w/2 }
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	cx, cy := (x0+x1)/2, (y0+y1)/2
	hx, hy := (x1-x0)/2-r, (y1-y0)/2-r
	return func(x, y float64) float64 {
		dx, dy := math.Abs(x-cx)-hx, math.Abs(y-cy)-hy
		out := math.Hypot(math.Max(dx, 0), math.Max(dy, 0))
		return out + math.Min(math.Max(dx, dy), 0) - r
	}
}

// capsule is a line from (x0,y0) to (x1,y1) with round ends, w thick... r is half the width.
func capsule(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) float64 {
		px, py, bx, by := x-x0, y-y0, x1-x0, y1-y0
		h := 0.0
		if l := bx*bx + by*by; l > 0 {
			h = math.Max(0, math.Min(1, (px*bx+py*by)/l))
		}
		return math.Hypot(px-bx*h, py-by*h) - r
	}
}

func union(a, b shape) shape {
	return func(x, y float64) float64 { return math.Min(a(x, y), b(x, y)) }
}

// arc is the part of a ring of radius r and width w between the angles from and to (degrees,
// clockwise from three o'clock, screen coordinates).
func arc(cx, cy, r, w, from, to float64) shape {
	return func(x, y float64) float64 {
		a := math.Atan2(y-cy, x-cx) * 180 / math.Pi
		if a < 0 {
			a += 360
		}
		if a < from || a > to {
			return 1
		}
		return math.Abs(math.Hypot(x-cx, y-cy)-r) - w/2
	}
}

type point struct{ x, y float64 }

// arrowHead returns the triangle of an arrow head at angle deg on the circle, pointing clockwise.
func arrowHead(cx, cy, r, deg, size float64) [3]point {
	a := deg * math.Pi / 180
	px, py := cx+r*math.Cos(a), cy+r*math.Sin(a)
	tx, ty := -math.Sin(a), math.Cos(a) // clockwise tangent
	nx, ny := math.Cos(a), math.Sin(a)  // outward normal
	return [3]point{
		{px + tx*size, py + ty*size},
		{px + nx*size*0.9, py + ny*size*0.9},
		{px - nx*size*0.9, py - ny*size*0.9},
	}
}

func triangle(p [3]point) shape {
	return func(x, y float64) float64 {
		side := func(a, b point) float64 { return (b.x-a.x)*(y-a.y) - (b.y-a.y)*(x-a.x) }
		d0, d1, d2 := side(p[0], p[1]), side(p[1], p[2]), side(p[2], p[0])
		if (d0 >= 0 && d1 >= 0 && d2 >= 0) || (d0 <= 0 && d1 <= 0 && d2 <= 0) {
			return -1
		}
		return 1
	}
}
