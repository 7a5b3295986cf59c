//! Image → input tensor, exactly as a [`Manifest`](crate::Manifest)'s `input` section says.
//!
//! The reference implementation is Pillow + NumPy (`scripts/demo_models.py`); the shared test
//! vectors hold its output tensors, and the tests compare against them.

use std::io::Cursor;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{ImageReader, RgbImage};

use crate::error::{Error, Result};
use crate::manifest::{ColorOrder, Filter, InputSpec, Layout, Resize};
use crate::tensor::Tensor;

/// Decodes JPEG or PNG bytes to 8-bit RGB (grey is replicated, alpha dropped).
///
/// The header is read first: an image over `max_pixels` is refused with
/// [`Error::LimitExceeded`] before its pixels are allocated.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<RgbImage> {
    let reader = || {
        ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::ImageDecode(e.to_string()))
    };
    if bytes.is_empty() {
        return Err(Error::ImageDecode("the image is empty (0 bytes)".into()));
    }
    // On 32-bit targets (wasm32, armv7) the PNG decoder refuses an image whose pixels would not
    // fit the address space before it reports the size ("Memory limit exceeded"): read the size
    // from the header first, so the error is the same LimitExceeded as on 64-bit targets.
    if let Some((w, h)) = png_dimensions(bytes) {
        check_dimensions(w, h, max_pixels)?;
    }
    let probe = reader()?;
    if probe.format().is_none() {
        return Err(Error::ImageDecode(
            "unknown format: expected JPEG or PNG bytes".into(),
        ));
    }
    let (w, h) = probe
        .into_dimensions()
        .map_err(|e| Error::ImageDecode(e.to_string()))?;
    check_dimensions(w, h, max_pixels)?;
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| Error::ImageDecode(e.to_string()))?;
    Ok(img.into_rgb8())
}

/// Width and height from a PNG's IHDR chunk (always the first chunk), if `bytes` start like a PNG.
fn png_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.get(12..16) != Some(&b"IHDR"[..]) {
        return None;
    }
    let be = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}

/// Refuses zero-sized images and images over `max_pixels`.
pub fn check_dimensions(width: u32, height: u32, max_pixels: u64) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::ImageDecode(format!(
            "image is {width}×{height}: it has no pixels"
        )));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(Error::LimitExceeded {
            limit: "max_image_pixels",
            value: pixels,
            max: max_pixels,
        });
    }
    Ok(())
}

/// Converts tightly packed RGBA (e.g. a camera frame or canvas `ImageData`) to RGB.
pub fn rgba_to_rgb(rgba: &[u8], width: u32, height: u32, max_pixels: u64) -> Result<RgbImage> {
    check_dimensions(width, height, max_pixels)?;
    let expected = width as usize * height as usize * 4;
    if rgba.len() != expected {
        return Err(Error::InvalidArgument(format!(
            "an RGBA frame of {width}×{height} needs {expected} bytes, got {}",
            rgba.len()
        )));
    }
    let rgb = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| Error::InvalidArgument("RGBA buffer does not fit its size".into()))
}

/// Builds the input tensor (batch 1) for an image of an input of `shape`, per `spec`.
pub fn to_tensor(img: &RgbImage, spec: &InputSpec, shape: &[usize]) -> Result<Tensor> {
    let (th, tw) = match (spec.layout, shape) {
        (Layout::NCHW, [1, 3, h, w]) | (Layout::NHWC, [1, h, w, 3]) => (*h, *w),
        _ => {
            return Err(Error::Manifest(format!(
                "layout {:?} with 3 colour channels and batch 1 does not fit the model input \
                 shape {shape:?}",
                spec.layout
            )))
        }
    };
    let (w, h) = (img.width() as f64, img.height() as f64);
    // (crop box in source pixels, resized width)
    let (crop, rw, filter) = match spec.resize {
        Resize::CenterCrop {
            crop_fraction,
            filter,
        } => {
            let cw = crop_fraction * w.min(h * tw as f64 / th as f64);
            let ch = cw * th as f64 / tw as f64;
            (((w - cw) / 2.0, (h - ch) / 2.0, cw, ch), tw, filter)
        }
        Resize::KeepAspectPad { filter, .. } => {
            let rw = ((th as f64 * w / h).ceil() as usize).clamp(1, tw);
            ((0.0, 0.0, w, h), rw, filter)
        }
        Resize::Stretch { filter } => ((0.0, 0.0, w, h), tw, filter),
    };
    let resized = resize(img, crop, rw as u32, th as u32, filter)?;
    let pad = match spec.resize {
        Resize::KeepAspectPad { pad_value, .. } => pad_value,
        _ => 0.0,
    };
    let affine = spec.normalize.affine(3)?;
    let channel_of = |c: usize| match spec.color {
        ColorOrder::RGB => c,
        ColorOrder::BGR => 2 - c,
    };
    let mut data = vec![pad; th * tw * 3];
    for y in 0..th {
        for x in 0..rw {
            let px = &resized[(y * rw + x) * 3..][..3];
            for (c, (scale, offset)) in affine.iter().enumerate() {
                let v = f32::from(px[channel_of(c)]) * scale + offset;
                let at = match spec.layout {
                    Layout::NCHW => (c * th + y) * tw + x,
                    Layout::NHWC => (y * tw + x) * 3 + c,
                };
                data[at] = v;
            }
        }
    }
    Tensor::f32(shape.to_vec(), data)
}

/// Resamples the `(left, top, width, height)` box of `img` to `dw × dh` RGB bytes.
fn resize(
    img: &RgbImage,
    (left, top, cw, ch): (f64, f64, f64, f64),
    dw: u32,
    dh: u32,
    filter: Filter,
) -> Result<Vec<u8>> {
    let alg = match filter {
        Filter::Nearest => ResizeAlg::Nearest,
        Filter::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
        Filter::Bicubic => ResizeAlg::Convolution(FilterType::CatmullRom),
        Filter::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
    };
    let fail = |e: String| Error::ImageDecode(format!("resize failed: {e}"));
    let src = ImageRef::new(img.width(), img.height(), img.as_raw(), PixelType::U8x3)
        .map_err(|e| fail(e.to_string()))?;
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(alg).crop(left, top, cw, ch);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| fail(e.to_string()))?;
    Ok(dst.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Normalize;

    fn spec(resize: Resize, color: ColorOrder) -> InputSpec {
        InputSpec {
            layout: Layout::NCHW,
            color,
            resize,
            normalize: Normalize::ScaleOffset {
                scale: vec![1.0],
                offset: vec![0.0],
            },
        }
    }

    #[test]
    fn keep_aspect_pad_fills_the_right_with_pad_value_and_swaps_to_bgr() {
        // A 10×5 pure-red image into 48×192: resized to 96 wide, padded to 192.
        let img = RgbImage::from_pixel(10, 5, image::Rgb([255, 0, 0]));
        let resize = Resize::KeepAspectPad {
            filter: Filter::Bilinear,
            pad_value: -7.0,
        };
        let t = to_tensor(&img, &spec(resize, ColorOrder::BGR), &[1, 3, 48, 192]).unwrap();
        let v = t.as_f32().unwrap();
        let at = |c: usize, y: usize, x: usize| v[(c * 48 + y) * 192 + x];
        assert_eq!(
            (at(0, 10, 0), at(2, 10, 0)),
            (0.0, 255.0),
            "channel 0 is blue in BGR"
        );
        assert_eq!(at(2, 47, 95), 255.0);
        assert_eq!(at(2, 0, 96), -7.0);
        assert_eq!(at(1, 20, 191), -7.0);
    }

    #[test]
    fn center_crop_keeps_only_the_centre() {
        // Left third black, middle white, right third black: a 0.33 crop sees only white.
        let img = RgbImage::from_fn(300, 100, |x, _| {
            if (100..200).contains(&x) {
                image::Rgb([255; 3])
            } else {
                image::Rgb([0; 3])
            }
        });
        let resize = Resize::CenterCrop {
            crop_fraction: 0.9,
            filter: Filter::Bicubic,
        };
        let t = to_tensor(&img, &spec(resize, ColorOrder::RGB), &[1, 3, 8, 8]).unwrap();
        assert!(t.as_f32().unwrap().iter().all(|v| *v == 255.0));
    }

    #[test]
    fn nhwc_layout_interleaves_channels() {
        let img = RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let mut s = spec(
            Resize::Stretch {
                filter: Filter::Nearest,
            },
            ColorOrder::RGB,
        );
        s.layout = Layout::NHWC;
        let t = to_tensor(&img, &s, &[1, 2, 2, 3]).unwrap();
        assert_eq!(t.as_f32().unwrap(), &[1.0, 2.0, 3.0].repeat(4)[..]);
    }

    #[test]
    fn oversize_images_are_refused_from_the_header() {
        let img = RgbImage::new(64, 64);
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let e = decode(&png, 64 * 63).unwrap_err();
        assert!(matches!(
            e,
            Error::LimitExceeded {
                limit: "max_image_pixels",
                value: 4096,
                ..
            }
        ));
        assert_eq!(decode(&png, 64 * 64).unwrap().dimensions(), (64, 64));
    }

    #[test]
    fn rgba_buffers_must_match_their_size() {
        assert_eq!(
            rgba_to_rgb(&[0; 16], 2, 2, 100).unwrap().as_raw(),
            &vec![0u8; 12]
        );
        assert_eq!(
            rgba_to_rgb(&[0; 15], 2, 2, 100).unwrap_err().kind(),
            "InvalidArgument"
        );
        assert_eq!(
            rgba_to_rgb(&[], 0, 2, 100).unwrap_err().kind(),
            "ImageDecode"
        );
    }
}
