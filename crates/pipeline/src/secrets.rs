//! Fresh values for the variables a bundle generates (see
//! `infra::bundle::generated_value`).

/// A new random value for `name`, in the form its app reads.
pub(crate) fn fresh(name: &str) -> String {
    let random: [u8; infra::bundle::KEY_BASE_BYTES] = std::array::from_fn(|_| rand::random());
    infra::bundle::generated_value(name, &random)
}
