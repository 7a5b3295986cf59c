//! Encoded images and raw frames → 8-bit RGB, with the size checked before pixels are allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use crate::error::{Error, Limit, Result};

/// Decodes JPEG or PNG bytes to 8-bit RGB (grey is replicated, alpha dropped), turned as the
/// image's EXIF Orientation tag says when `apply_exif_orientation` is set: the picture as every
/// viewer shows it (a phone stores portrait photos sideways with Orientation = 6). The size
/// limit applies to the stored pixels.
///
/// # Errors
/// The header is read first: an image over `max_pixels` is refused with
/// [`Error::LimitExceeded`] before its pixels are allocated; bytes that are no JPEG or PNG, or
/// that do not decode, are [`Error::ImageDecode`].
pub fn decode(bytes: &[u8], max_pixels: u64, apply_exif_orientation: bool) -> Result<RgbImage> {
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
    let fail = |e: image::ImageError| Error::ImageDecode(e.to_string());
    let mut decoder = reader.into_decoder().map_err(fail)?;
    // A missing or malformed tag reads as "no rotation", as in every viewer.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(fail)?;
    if apply_exif_orientation {
        img.apply_orientation(orientation);
    }
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

/// Refuses zero-sized images ([`Error::ImageDecode`]) and images over `max_pixels`
/// ([`Error::LimitExceeded`]).
///
/// # Errors
/// As above.
pub fn check_dimensions(width: u32, height: u32, max_pixels: u64) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::ImageDecode(format!(
            "image is {width}×{height}: it has no pixels"
        )));
    }
    Limit::MaxImagePixels.check(u64::from(width) * u64::from(height), max_pixels)
}

/// Converts tightly packed RGBA (e.g. a camera frame or canvas `ImageData`), `width × height`
/// pixels of 4 bytes, to RGB.
///
/// # Errors
/// [`Error::InvalidArgument`] when `rgba.len() != width · height · 4`; the size checks of
/// [`check_dimensions`].
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
