//! Whole numbers as JSON Schema means them: `9` and `9.0` are both the integer 9 (a Python client
//! sends `9.0` for a float that holds a whole value); `9.5` is not an integer. Public because other
//! rooms that take money (recruitment campaigns) read amounts the same way.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

struct Whole(i64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Whole;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
                Ok(Whole(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
                i64::try_from(v).map(Whole).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
                // Within ±2^63 and without a fractional part, the float is exactly an i64.
                if v.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&v) {
                    Ok(Whole(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A required whole number.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Whole::deserialize(d).map(|w| w.0)
}

/// An optional whole number (`null` = absent); use with `#[serde(default)]`.
pub fn opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<Whole>::deserialize(d).map(|o| o.map(|w| w.0))
}

/// A merge-patch whole number: absent (`None`, via `#[serde(default)]`), `null` (`Some(None)`) or a value.
pub fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<Whole>::deserialize(d).map(|o| Some(o.map(|w| w.0)))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(deserialize_with = "super::int")]
        n: i64,
        #[serde(default, deserialize_with = "super::opt")]
        o: Option<i64>,
        #[serde(default, deserialize_with = "super::nullable")]
        p: Option<Option<i64>>,
    }

    fn parse(text: &str) -> Result<T, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn integral_floats_are_integers() {
        let t = parse(r#"{"n": 9.0, "o": 3, "p": null}"#).unwrap();
        assert_eq!((t.n, t.o, t.p), (9, Some(3), Some(None)));
        let t = parse(r#"{"n": -2, "o": null}"#).unwrap();
        assert_eq!((t.n, t.o, t.p), (-2, None, None));
        for bad in [r#"{"n": 9.5}"#, r#"{"n": "9"}"#, r#"{"n": 1e300}"#, r#"{"n": 18446744073709551615}"#] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
