//! G.711 (ITU-T): 8-bit µ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8)
//! samples to and from 16-bit linear PCM, as recordings and prompts need. The
//! conversions follow the reference implementation's segment tables, so a code decoded
//! and encoded again is the same code (µ-law's negative zero aside, which is zero).

/// The bias µ-law adds before taking the segment (0x84 on the 16-bit scale).
const ULAW_BIAS: i32 = 0x84;
/// The largest magnitude µ-law represents, on its 14-bit scale.
const ULAW_CLIP: i32 = 8159;
/// Upper ends of µ-law's eight segments (14-bit scale, bias included).
const ULAW_SEGMENT_ENDS: [i32; 8] = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
/// Upper ends of A-law's eight segments (13-bit scale).
const ALAW_SEGMENT_ENDS: [i32; 8] = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

fn segment(value: i32, ends: &[i32; 8]) -> Option<i32> {
    ends.iter().position(|end| value <= *end).map(|at| at as i32)
}

pub fn ulaw_to_linear(code: u8) -> i16 {
    let code = !code;
    let magnitude = ((i32::from(code & 0x0f) << 3) + ULAW_BIAS) << ((code & 0x70) >> 4);
    let sample = if code & 0x80 != 0 { ULAW_BIAS - magnitude } else { magnitude - ULAW_BIAS };
    sample as i16
}

pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 2;
    let mask = if value < 0 {
        value = -value;
        0x7f
    } else {
        0xff
    };
    let value = value.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    match segment(value, &ULAW_SEGMENT_ENDS) {
        Some(segment) => (((segment << 4) | ((value >> (segment + 1)) & 0x0f)) as u8) ^ mask,
        None => 0x7f ^ mask,
    }
}

pub fn alaw_to_linear(code: u8) -> i16 {
    let code = code ^ 0x55;
    let mantissa = i32::from(code & 0x0f) << 4;
    let magnitude = match (code & 0x70) >> 4 {
        0 => mantissa + 8,
        segment => (mantissa + 0x108) << (segment - 1),
    };
    (if code & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 3;
    let mask = if value >= 0 {
        0xd5
    } else {
        value = -value - 1;
        0x55
    };
    match segment(value, &ALAW_SEGMENT_ENDS) {
        Some(segment) => {
            let shift = if segment < 2 { 1 } else { segment };
            (((segment << 4) | ((value >> shift) & 0x0f)) as u8) ^ mask
        }
        None => 0x7f ^ mask,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ulaw_code_survives_a_round_trip() {
        for code in 0..=255u8 {
            let again = linear_to_ulaw(ulaw_to_linear(code));
            // 0x7f is negative zero: it decodes to 0, which encodes as positive zero.
            let expected = if code == 0x7f { 0xff } else { code };
            assert_eq!(again, expected, "µ-law {code:#04x}");
        }
    }

    #[test]
    fn every_alaw_code_survives_a_round_trip() {
        for code in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn silence_and_full_scale_have_their_known_codes() {
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
    }

    #[test]
    fn encoding_keeps_a_sample_within_its_segments_step() {
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let error = |decoded: i16| (i32::from(decoded) - i32::from(sample)).abs();
            // Full scale's step is 1024 wide in both laws (µ-law also clips above 32124).
            assert!(error(ulaw_to_linear(linear_to_ulaw(sample))) <= 1024, "µ-law {sample}");
            assert!(error(alaw_to_linear(linear_to_alaw(sample))) <= 1024, "A-law {sample}");
        }
    }
}
