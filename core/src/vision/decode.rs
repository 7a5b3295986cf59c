//! Encoded images and raw frames → 8-bit RGB, with the size checked before pixels are allocated.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::error::{Error, Limit, Result};

/// The encoded formats [`decode`] reads, as its error messages name them. Each costs library
/// size (README, "Image formats"): TIFF, AVIF, HEIC and the rest are refused with a message that
/// says to convert the image.
pub const SUPPORTED_FORMATS: &str = "JPEG, PNG, WebP, BMP and GIF (first frame)";

/// The formats of [`SUPPORTED_FORMATS`], as the `image` crate names them.
const DECODED: [ImageFormat; 5] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::WebP,
    ImageFormat::Bmp,
    ImageFormat::Gif,
];

/// What to do with an image in another format.
const CONVERT: &str = "convert it to JPEG or PNG (any image editor, `convert` or `sips` can)";

/// Decodes JPEG, PNG, WebP, BMP or GIF bytes (a GIF's first frame) to 8-bit RGB (grey is
/// replicated, alpha dropped), turned as the image's EXIF Orientation tag says when
/// `apply_exif_orientation` is set: the picture as every viewer shows it (a phone stores portrait
/// photos sideways with Orientation = 6; JPEG and WebP carry the tag). The size limit applies to
/// the stored pixels.
///
/// # Errors
/// The header is read first: an image over `max_pixels` is refused with
/// [`Error::LimitExceeded`] before its pixels are allocated. [`Error::ImageDecode`] for bytes in
/// another format (TIFF, HEIC, AVIF, ...: the message lists [`SUPPORTED_FORMATS`] and says to
/// convert the image), in no known format, or that do not decode (the message names the format and
/// the decoder's reason).
pub fn decode(bytes: &[u8], max_pixels: u64, apply_exif_orientation: bool) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(Error::ImageDecode("the image is empty (0 bytes)".into()));
    }
    let format = match image::guess_format(bytes) {
        Ok(format) if DECODED.contains(&format) => format,
        Ok(other) => return Err(unsupported(format_name(other))),
        Err(_) => match unsupported_container(bytes) {
            Some(name) => return Err(unsupported(name)),
            None => {
                return Err(Error::ImageDecode(format!(
                    "unknown format: the bytes are no image Ledge knows (it decodes \
                     {SUPPORTED_FORMATS}); pass the encoded file's bytes, or {CONVERT}"
                )))
            }
        },
    };
    let name = format_name(format);
    let fail = |e: image::ImageError| {
        Error::ImageDecode(format!(
            "the {name} data is damaged or truncated ({e}); re-export the image or {CONVERT}"
        ))
    };
    // On 32-bit targets (wasm32, armv7) the PNG decoder refuses an image whose pixels would not
    // fit the address space before it reports the size ("Memory limit exceeded"): read the size
    // from the header first, so the error is the same LimitExceeded as on 64-bit targets.
    if let Some((w, h)) = png_dimensions(bytes) {
        check_dimensions(w, h, max_pixels)?;
    }
    let reader = || ImageReader::with_format(Cursor::new(bytes), format);
    let (w, h) = reader().into_dimensions().map_err(fail)?;
    check_dimensions(w, h, max_pixels)?;
    let mut reader = reader();
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(max_pixels.saturating_mul(8));
    reader.limits(limits);
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

fn unsupported(name: &str) -> Error {
    Error::ImageDecode(format!(
        "{name} images are not supported: Ledge decodes {SUPPORTED_FORMATS}; {CONVERT}"
    ))
}

/// The usual name of a format the `image` crate recognizes.
fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Avif => "AVIF",
        ImageFormat::Ico => "ICO",
        ImageFormat::Pnm => "PNM (PBM/PGM/PPM)",
        ImageFormat::Tga => "TGA",
        ImageFormat::Dds => "DDS",
        ImageFormat::Hdr => "Radiance HDR",
        ImageFormat::OpenExr => "OpenEXR",
        ImageFormat::Farbfeld => "farbfeld",
        ImageFormat::Qoi => "QOI",
        _ => "this format's",
    }
}

/// Formats the `image` crate does not recognize at all but phones and browsers produce: HEIC/HEIF
/// (iPhone photos), AVIF brands the crate misses, JPEG XL.
fn unsupported_container(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0x0a]) || bytes.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some("JPEG XL");
    }
    if bytes.get(4..8) != Some(&b"ftyp"[..]) {
        return None;
    }
    // The ftyp box: size, "ftyp", major brand, minor version, compatible brands.
    let size = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let box_ = &bytes[..size.clamp(12, 64).min(bytes.len())];
    let brands: Vec<&[u8]> = std::iter::once(box_.get(8..12)?)
        .chain(box_.get(16..).unwrap_or_default().chunks_exact(4))
        .collect();
    let has = |names: &[&[u8]]| brands.iter().any(|b| names.contains(b));
    if has(&[b"avif", b"avis"]) {
        Some("AVIF")
    } else if has(&[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
    ]) {
        Some("HEIC/HEIF")
    } else {
        None
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×2 gradient written in `format` by the `image` crate's own encoder.
    fn encoded(format: ImageFormat) -> (RgbImage, Vec<u8>) {
        let img = RgbImage::from_fn(3, 2, |x, y| {
            image::Rgb([(x * 80) as u8, (y * 200) as u8, 7])
        });
        let mut bytes = Vec::new();
        img.write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap_or_else(|e| panic!("{format:?}: {e}"));
        (img, bytes)
    }

    #[test]
    fn the_listed_formats_are_the_compiled_ones() {
        for format in DECODED {
            assert!(format.reading_enabled(), "{format:?}");
            assert!(
                SUPPORTED_FORMATS.contains(format_name(format)),
                "{format:?}"
            );
        }
        // Those are the only ones: every other format is refused before a decoder is asked.
        for format in ImageFormat::all().filter(|f| !DECODED.contains(f)) {
            assert!(!format.reading_enabled(), "{format:?} is compiled in");
        }
    }

    #[test]
    fn lossless_formats_decode_to_the_written_pixels() {
        for format in [ImageFormat::Png, ImageFormat::Bmp, ImageFormat::WebP] {
            let (img, bytes) = encoded(format);
            assert_eq!(decode(&bytes, 6, true).unwrap(), img, "{format:?}");
            let e = decode(&bytes, 5, true).unwrap_err();
            assert!(
                matches!(e, Error::LimitExceeded { value: 6, .. }),
                "{format:?}: {e}"
            );
        }
    }

    #[test]
    fn other_formats_are_named_with_what_to_do() {
        let cases: [(&[u8], &str); 9] = [
            (b"II*\0\x08\0\0\0", "TIFF images are not supported"),
            (b"MM\0*\0\0\0\x08", "TIFF images are not supported"),
            (b"P6\n1 1\n255\n\0\0\0", "PNM (PBM/PGM/PPM) images"),
            (b"qoif\0\0\0\x01\0\0\0\x01\x03\0", "QOI images"),
            (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC/HEIF images"),
            (b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf", "AVIF images"),
            (b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif", "AVIF images"),
            (b"\xff\x0a\xfa\x7f", "JPEG XL images"),
            (b"\0\x01\x02\x03", "unknown format"),
        ];
        for (bytes, says) in cases {
            let e = decode(bytes, 1 << 20, true).unwrap_err();
            let msg = e.to_string();
            assert_eq!(e.kind(), "ImageDecode", "{msg}");
            for part in [says, SUPPORTED_FORMATS, "convert it to JPEG or PNG"] {
                assert!(msg.contains(part), "{msg:?} lacks {part:?}");
            }
        }
    }

    #[test]
    fn damaged_images_name_their_format_and_what_to_do() {
        for (format, name) in [
            (ImageFormat::Png, "PNG"),
            (ImageFormat::Jpeg, "JPEG"),
            (ImageFormat::WebP, "WebP"),
            (ImageFormat::Bmp, "BMP"),
            (ImageFormat::Gif, "GIF"),
        ] {
            let (_, bytes) = encoded(format);
            let cut = &bytes[..bytes.len() * 2 / 3];
            let msg = decode(cut, 1 << 20, true).unwrap_err().to_string();
            for part in [
                &format!("the {name} data is damaged"),
                "re-export the image",
            ] {
                assert!(msg.contains(part), "{format:?}: {msg:?} lacks {part:?}");
            }
        }
        let msg = decode(b"GIF89a nope", 1 << 20, true)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("the GIF data is damaged"), "{msg}");
    }
}
