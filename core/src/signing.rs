//! Signed model packages: an Ed25519 signature (RFC 8032, `ed25519-dalek`) over the model's
//! sha256 (of the bytes before packing) and its embedded manifest, stored in the ONNX
//! `metadata_props` under [`SIGNATURE_KEY`] as `PUBLIC_KEY_HEX:SIGNATURE_HEX`. The core only
//! verifies; keys are made and packages signed by the `ledge` CLI (`keygen`, `pack --sign`).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::error::{Error, Result, SignatureProblem};

/// The ONNX `metadata_props` key of a package's signature.
pub const SIGNATURE_KEY: &str = "ledge.signature";

/// What is signed: a domain tag, the model's sha256 (hex, before packing) and the manifest TOML.
fn message(model_sha256: &str, manifest_toml: &str) -> Vec<u8> {
    format!("ledge-model-signature-v1\n{model_sha256}\n{manifest_toml}").into_bytes()
}

/// Parses a 32-byte key written as 64 hex digits (surrounding whitespace ignored).
fn key_bytes(text: &str, what: &str) -> Result<[u8; 32]> {
    let text = text.trim();
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| {
        Error::InvalidArgument(format!(
            "a {what} is 64 hex digits (as `ledge keygen` writes it), got {} characters",
            text.len()
        ))
    })?;
    Ok(out)
}

/// A public key from its hex text (`ledge.pub`).
///
/// # Errors
/// [`Error::InvalidArgument`] when it is not 64 hex digits or no valid Ed25519 point.
pub fn public_key(text: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_bytes(&key_bytes(text, "public key")?)
        .map_err(|e| Error::InvalidArgument(format!("not an Ed25519 public key: {e}")))
}

/// A signing key from its hex text (`ledge.key`: the 32-byte secret seed).
///
/// # Errors
/// [`Error::InvalidArgument`] when it is not 64 hex digits.
pub fn signing_key(text: &str) -> Result<SigningKey> {
    Ok(SigningKey::from_bytes(&key_bytes(text, "private key")?))
}

/// The public key (hex, as `ledge.pub` holds it) of a private key (hex, as `ledge.key` holds it).
///
/// # Errors
/// [`Error::InvalidArgument`] when the private key is not 64 hex digits.
pub fn public_key_for(private_key: &str) -> Result<String> {
    Ok(hex::encode(
        signing_key(private_key)?.verifying_key().as_bytes(),
    ))
}

/// The `metadata_props` value that signs `model_sha256` and `manifest_toml` with `key`.
pub fn sign(key: &SigningKey, model_sha256: &str, manifest_toml: &str) -> String {
    let signature = key.sign(&message(model_sha256, manifest_toml));
    format!(
        "{}:{}",
        hex::encode(key.verifying_key().as_bytes()),
        hex::encode(signature.to_bytes())
    )
}

/// Checks a package's signature (`value`, `None` when unsigned) against the trusted public keys.
///
/// # Errors
/// [`Error::Signature`]: [`SignatureProblem::Unsigned`], [`SignatureProblem::UntrustedKey`] when
/// the signer is none of `trusted`, [`SignatureProblem::Invalid`] when the model bytes or the
/// manifest changed after signing (or the value is malformed).
pub fn verify(
    value: Option<&str>,
    trusted: &[VerifyingKey],
    model_sha256: &str,
    manifest_toml: &str,
) -> Result<()> {
    let fail =
        |problem: SignatureProblem, detail: String| Err(Error::Signature { problem, detail });
    let Some(value) = value else {
        return fail(
            SignatureProblem::Unsigned,
            "the model carries no signature, and trusted keys were given: sign it with `ledge \
             pack --sign KEY`"
                .into(),
        );
    };
    let parsed = value.split_once(':').and_then(|(k, s)| {
        let key = public_key(k).ok()?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(s, &mut sig).ok()?;
        Some((key, Signature::from_bytes(&sig)))
    });
    let Some((signer, signature)) = parsed else {
        return fail(
            SignatureProblem::Invalid,
            format!(
                "the signature field is malformed ({} characters)",
                value.len()
            ),
        );
    };
    if !trusted.contains(&signer) {
        return fail(
            SignatureProblem::UntrustedKey,
            format!(
                "the model is signed by key {}, which is not among the {} trusted key(s): \
                 trust that key or sign the model with a trusted one",
                hex::encode(signer.as_bytes()),
                trusted.len()
            ),
        );
    }
    signer
        .verify(&message(model_sha256, manifest_toml), &signature)
        .or_else(|_| {
            fail(
                SignatureProblem::Invalid,
                "the signature does not match the model and manifest: they changed after \
                 signing (a tampered or re-saved file)"
                    .into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_every_failure() {
        let key = signing_key(&"07".repeat(32)).unwrap();
        let public = key.verifying_key();
        let other = signing_key(&"08".repeat(32)).unwrap().verifying_key();
        let value = sign(&key, "ab", "name = \"m\"");
        assert!(verify(Some(&value), &[other, public], "ab", "name = \"m\"").is_ok());
        let problem = |r: Result<()>| match r {
            Err(Error::Signature { problem, .. }) => problem,
            other => panic!("{other:?}"),
        };
        let v = Some(value.as_str());
        assert_eq!(
            problem(verify(None, &[public], "ab", "")),
            SignatureProblem::Unsigned
        );
        assert_eq!(
            problem(verify(v, &[other], "ab", "name = \"m\"")),
            SignatureProblem::UntrustedKey
        );
        assert_eq!(
            problem(verify(v, &[public], "ac", "name = \"m\"")),
            SignatureProblem::Invalid
        );
        assert_eq!(
            problem(verify(v, &[public], "ab", "name = \"n\"")),
            SignatureProblem::Invalid
        );
        assert_eq!(
            problem(verify(Some("zz:00"), &[public], "ab", "")),
            SignatureProblem::Invalid
        );
        assert_eq!(public_key("abc").unwrap_err().kind(), "InvalidArgument");
    }
}
