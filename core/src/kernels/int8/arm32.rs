//! The armv7 NEON int8 matrix product ([`Isa::Neon`] on 32-bit ARM): the aarch64 `smlal`
//! kernel's scheme in ARMv7 NEON. u8 inputs widened to i16 (`vmovl.u8`), each multiplied by
//! one i16 lane of a weight vector and accumulated into i32 (`vmlal.s16` by scalar), exactly.
//!
//! Compiled only where NEON is enabled at compile time (`-C target-feature=+neon`, as
//! scripts/build-pi.sh builds armv7: Pi 2 and later all have NEON) and the NEON intrinsics are
//! usable (`stdarch_arm_neon_intrinsics`, a nightly feature: `cfg(target_feature = "neon")` is
//! only set on nightly compilers for 32-bit ARM, so stable builds of armv7, Android's included,
//! keep the portable product and compile unchanged). The functions also carry
//! `#[target_feature(enable = "neon,v7")]` (`arm_target_feature`, nightly too), which the
//! intrinsics need for safe calls even when the whole build has NEON.
//!
//! ARMv7 NEON has neither `vcvtn` (round to nearest even) nor `vmaxnm`/`vminnm` (ARMv8), and it
//! flushes subnormals to zero. The requantization is therefore written so that it still gives
//! the portable `requant`'s bits: the clamp to ±1024 is a compare and select
//! (a NaN becomes −1024, as `f32::max` makes it), and the rounding adds `1.5 · 2^23`, whose
//! unit in the last place is 1, so the hardware's round-to-nearest-even rounds to an integer
//! that the float's low bits hold. A subnormal scale or product is below 2^-126, rounded to 0
//! either way, so flushing it changes nothing.

use super::*;
use core::arch::arm::*;

/// Pixels per register tile: two vectors of four i32 per channel, eight accumulators for the
/// four channels of a [`PAIR_ROWS`] panel (ARMv7 NEON has 16 q registers: the aarch64 kernel's
/// 16 pixels would leave none for the inputs and weights).
const NR: usize = 8;

/// `1.5 · 2^23`: `v + MAGIC` for |v| ≤ 2^22 is an f32 in [2^23, 2^24), whose spacing is 1, so
/// the addition rounds `v` to an integer (half to even) and the bits minus `MAGIC`'s are it.
const MAGIC: f32 = 12_582_912.0;

/// The matrix product with ARMv7 NEON `vmlal.s16`: tiles of [`PAIR_ROWS`] channels × 8 pixels
/// in eight accumulators. The weights are [`GemmWeights::pairs`] (one 128-bit load holds the
/// tile's four channels at two k); the inputs are packed one 8-pixel panel at a time
/// (`[k rounded to even][8]` bytes: one 128-bit load holds two k), which all the channel panels
/// then read from L1.
///
/// # Panics
/// When the lengths do not fit the geometry (`x`: `k · p`, `out`: `cout · p`, `w.pairs`: every
/// panel, `rq`: one per channel); [`gemm`] asserts them first.
#[target_feature(enable = "neon,v7")]
pub(super) fn gemm_neon(w: &GemmWeights, x: &[u8], p: usize, rq: &Requant, out: &mut [u8]) {
    // Closures: a `#[target_feature]` function is not itself an `Fn`.
    let tile = |wp: &[i32], xp: &[u8], k2n, bias| tile(wp, xp, k2n, bias);
    let requant = |acc: &_, scale, zero| requant8(acc, scale, zero);
    let pack = |p0, n, xp: &mut [u8]| pack_rows::<NR>(x, p, w.k, p0, n, xp);
    let packed = 2 * w.k.div_ceil(2) * NR;
    pair_panels::<NR, _, _, _>(w, p, rq, out, packed, pack, tile, requant);
}

/// One register tile of [`gemm_neon`]: `acc[r][v]` = `bias[r]` + Σ_k `w[k][r] · x[k][4v..4v + 4]`.
///
/// # Panics
/// When `w` holds fewer than `k2n · PAIR_ROWS` pairs or `x` fewer than `2 · k2n · NR` bytes.
#[target_feature(enable = "neon,v7")]
#[inline]
fn tile(w: &[i32], x: &[u8], k2n: usize, bias: [i32; PAIR_ROWS]) -> [[int32x4_t; 2]; PAIR_ROWS] {
    assert!(
        w.len() >= k2n * PAIR_ROWS && x.len() >= 2 * k2n * NR,
        "arm32 tile: lengths"
    );
    let mut acc = bias.map(|b| [vdupq_n_s32(b); 2]);
    let (wp, xp) = (w.as_ptr() as *const i16, x.as_ptr());
    for q in 0..k2n {
        // SAFETY: the reads stay within the lengths asserted above: 8 i16 (PAIR_ROWS pairs) of
        // w and two rows of NR bytes of x for each q < k2n.
        let (wv, xv) = unsafe {
            (
                vld1q_s16(wp.add(q * 2 * PAIR_ROWS)),
                vld1q_u8(xp.add(2 * q * NR)),
            )
        };
        // Little-endian: channel r's weights at k = 2q, 2q + 1 are lanes 2r, 2r + 1, so lanes
        // 2(r % 2), 2(r % 2) + 1 of the low (channels 0, 1) or high (2, 3) half.
        let (w01, w23) = (vget_low_s16(wv), vget_high_s16(wv));
        let even = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(xv)));
        let odd = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(xv)));
        mla::<0, 1>(&mut acc[0], even, odd, w01);
        mla::<2, 3>(&mut acc[1], even, odd, w01);
        mla::<0, 1>(&mut acc[2], even, odd, w23);
        mla::<2, 3>(&mut acc[3], even, odd, w23);
    }
    acc
}

/// `acc += even · w[E] + odd · w[O]`: eight pixels at two k, products widened to i32.
#[target_feature(enable = "neon,v7")]
#[inline]
fn mla<const E: i32, const O: i32>(
    acc: &mut [int32x4_t; 2],
    even: int16x8_t,
    odd: int16x8_t,
    w: int16x4_t,
) {
    acc[0] = vmlal_lane_s16::<E>(acc[0], vget_low_s16(even), w);
    acc[1] = vmlal_lane_s16::<E>(acc[1], vget_high_s16(even), w);
    acc[0] = vmlal_lane_s16::<O>(acc[0], vget_low_s16(odd), w);
    acc[1] = vmlal_lane_s16::<O>(acc[1], vget_high_s16(odd), w);
}

/// `requant` of 8 accumulators (bias included), bit for bit as the portable one (see the module
/// documentation): f32 product (no fused multiply-add), clamped to ±1024 (a NaN to −1024),
/// rounded half to even, plus `zero`, saturated to 0..=255.
#[target_feature(enable = "neon,v7")]
#[inline]
fn requant8(acc: &[int32x4_t; 2], scale: f32, zero: u8) -> [u8; NR] {
    let h = vcombine_u16(requant4(acc[0], scale, zero), requant4(acc[1], scale, zero));
    let mut bytes = [0u8; NR];
    // SAFETY: an 8-byte store into `bytes`.
    unsafe { vst1_u8(bytes.as_mut_ptr(), vqmovn_u16(h)) };
    bytes
}

/// Four lanes of [`requant8`], saturated to 0..=65535 (the caller narrows to u8).
#[target_feature(enable = "neon,v7")]
#[inline]
fn requant4(acc: int32x4_t, scale: f32, zero: u8) -> uint16x4_t {
    let v = vmulq_f32(vcvtq_f32_s32(acc), vdupq_n_f32(scale));
    // `v > -1024 ? v : -1024` is false for a NaN, which becomes -1024 as with `f32::max`; no NaN
    // is left for `vmin` (which would return one).
    let lo = vdupq_n_f32(-1024.0);
    let v = vminq_f32(vbslq_f32(vcgtq_f32(v, lo), v, lo), vdupq_n_f32(1024.0));
    let bits = vreinterpretq_s32_f32(vaddq_f32(v, vdupq_n_f32(MAGIC)));
    let r = vsubq_s32(bits, vdupq_n_s32(MAGIC.to_bits() as i32));
    vqmovun_s32(vaddq_s32(r, vdupq_n_s32(i32::from(zero))))
}
