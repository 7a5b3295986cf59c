#!/usr/bin/env python3
"""Writes demo-models/fixtures/formats/: one demo image (chelsea.png, downscaled so every file stays
under 60 KB) in each image format Ledge is tested against, for core/tests/image_formats.rs.

    $(scripts/python-env.sh) scripts/make-format-fixtures.py

Files (all 150x100 unless said otherwise):
  chelsea.png               the reference pixels (RGB)
  chelsea_lossless.webp     the same pixels, lossless WebP (decodes to exactly chelsea.png)
  chelsea_lossy.webp        lossy WebP, quality 80 (same top-1 as chelsea.png)
  chelsea_orient6.webp      lossless WebP stored rotated 90 degrees counter-clockwise (100x150) with
                            EXIF Orientation = 6: as viewed, exactly chelsea.png
  chelsea.bmp               the same pixels, 24-bit BMP
  chelsea_256.png           chelsea.png reduced to a 256-colour palette (stored as RGB)
  chelsea_animated.gif      two frames: chelsea_256.png's pixels, then coffee.png (only the first
                            frame is classified: exactly chelsea_256.png)
  chelsea.tif               TIFF (not decoded by Ledge: the test checks the error)

Pillow writes them all (Pillow 13.0.0, libwebp 1.6.0 as pinned in scripts/requirements.txt); the
lossless files are checked here to decode back to the reference pixels.
"""

import io
import sys
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "demo-models" / "images"
OUT = ROOT / "demo-models" / "fixtures" / "formats"
SIZE = (150, 100)
MAX_BYTES = 60_000


def rgb_bytes(path: Path) -> bytes:
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB").tobytes()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    cat = Image.open(IMAGES / "chelsea.png").convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    cat.save(OUT / "chelsea.png", optimize=True)

    cat.save(OUT / "chelsea_lossless.webp", lossless=True, quality=100, method=6)
    cat.save(OUT / "chelsea_lossy.webp", quality=80, method=6)

    # Orientation 6: the viewer turns the stored pixels 90 degrees clockwise, so store them turned
    # 90 degrees counter-clockwise (PIL's ROTATE_90).
    exif = Image.Exif()
    exif[0x0112] = 6
    cat.transpose(Image.Transpose.ROTATE_90).save(
        OUT / "chelsea_orient6.webp", lossless=True, quality=100, method=6, exif=exif.tobytes()
    )

    cat.save(OUT / "chelsea.bmp")

    # One palette for both GIF frames' reference: the first frame is exactly chelsea_256.png.
    cat256 = cat.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    cat256.convert("RGB").save(OUT / "chelsea_256.png", optimize=True)
    coffee = Image.open(IMAGES / "coffee.png").convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    coffee256 = coffee.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    cat256.save(
        OUT / "chelsea_animated.gif",
        save_all=True,
        append_images=[coffee256],
        duration=500,
        loop=0,
        optimize=False,
    )

    cat.save(OUT / "chelsea.tif", compression="tiff_deflate")

    reference = rgb_bytes(OUT / "chelsea.png")
    for name in ["chelsea_lossless.webp", "chelsea_orient6.webp", "chelsea.bmp"]:
        assert rgb_bytes(OUT / name) == reference, f"{name} does not decode to chelsea.png"
    with Image.open(OUT / "chelsea_animated.gif") as gif:
        assert gif.n_frames == 2, gif.n_frames
        gif.seek(0)
        assert gif.convert("RGB").tobytes() == rgb_bytes(OUT / "chelsea_256.png")
    with Image.open(OUT / "chelsea_orient6.webp") as im:
        assert im.size == (SIZE[1], SIZE[0]) and im.getexif().get(0x0112) == 6

    for path in sorted(OUT.iterdir()):
        size = path.stat().st_size
        print(f"{path.relative_to(ROOT)}: {size} bytes")
        assert size < MAX_BYTES, f"{path.name} is {size} bytes, over {MAX_BYTES}"
    return 0


if __name__ == "__main__":
    sys.exit(main())
