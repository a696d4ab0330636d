//! Integers in request bodies as JSON Schema defines them: a number with a zero fractional part
//! is an integer, so `5.0` reads as `5`. Clients that serialise every number as a double (some
//! mobile JSON libraries do) and generators that follow the schema literally are accepted;
//! `5.5` is still refused with the field named.

use serde::de::{Deserializer, Error};
use serde::Deserialize;

fn integral<E: Error>(x: f64) -> Result<i64, E> {
    if x.fract() == 0.0 && x >= i64::MIN as f64 && x <= i64::MAX as f64 {
        Ok(x as i64)
    } else {
        Err(E::custom(format!("{x} is not an integer")))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

fn read<'de, D: Deserializer<'de>, T: TryFrom<i64>>(n: Number) -> Result<T, D::Error> {
    let v = match n {
        Number::Int(i) => i,
        Number::Float(f) => integral(f)?,
    };
    T::try_from(v).map_err(|_| D::Error::custom(format!("{v} is out of range")))
}

/// `#[serde(deserialize_with = "lenient::int")]`
pub fn int<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<T, D::Error> {
    read::<D, T>(Number::deserialize(d)?)
}

/// `#[serde(default, deserialize_with = "lenient::opt_int")]`
pub fn opt_int<'de, D: Deserializer<'de>, T: TryFrom<i64>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => read::<D, T>(n).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(deserialize_with = "int")]
        n: i32,
        #[serde(default, deserialize_with = "opt_int")]
        m: Option<i64>,
    }

    fn parse(s: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn integral_numbers_are_integers_and_fractions_are_not() {
        let b = parse(r#"{"n": 5.0, "m": -12059.0}"#).unwrap();
        assert_eq!((b.n, b.m), (5, Some(-12059)));
        let b = parse(r#"{"n": 7}"#).unwrap();
        assert_eq!((b.n, b.m), (7, None));
        assert!(parse(r#"{"n": null, "m": null}"#).is_err());
        assert!(parse(r#"{"n": 5, "m": null}"#).unwrap().m.is_none());
        assert!(parse(r#"{"n": 5.5}"#).is_err());
        assert!(parse(r#"{"n": 3000000000}"#).is_err(), "out of i32 range");
        assert!(parse(r#"{"n": "5"}"#).is_err());
    }
}
