//! Declarative stand-ins for derive macros: they keep wire structs one line per
//! field while the codec stays dependency-free.

/// Declares a struct whose wire encoding is its fields in order, and
/// implements [`Encode`](crate::codec::Encode) and
/// [`Decode`](crate::codec::Decode) for it. Decode errors name the field.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::codec::Encode for $name {
            fn encode(&self, _w: &mut $crate::codec::Writer) {
                $( $crate::codec::Encode::encode(&self.$field, _w); )*
            }
        }

        impl $crate::codec::Decode for $name {
            fn decode(_r: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::codec::DecodeError> {
                Ok(Self {
                    $( $field: $crate::codec::Decode::decode(_r)
                        .map_err(|e| e.within(stringify!($field)))?, )*
                })
            }
        }
    };
}

/// Declares an open code point: a newtype over an unsigned integer with named
/// constants. Unknown values decode and re-encode unchanged (RFC 9420 §13
/// registries grow; GREASE values must pass through).
macro_rules! code_point {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($int:ty) {
            $( $(#[$cmeta:meta])* $konst:ident = $value:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(pub $int);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: Self = Self($value); )*

            /// The registered name of this value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( Self::$konst => Some(stringify!($konst)), )*
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}::{}", stringify!($name), n),
                    None => write!(f, "{}({:#06x})", stringify!($name), self.0),
                }
            }
        }

        impl $crate::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::codec::Writer) {
                $crate::codec::Encode::encode(&self.0, w);
            }
        }

        impl $crate::codec::Decode for $name {
            fn decode(r: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::codec::DecodeError> {
                <$int as $crate::codec::Decode>::decode(r).map(Self)
            }
        }
    };
}

/// Declares a closed enumeration encoded as an integer: values outside the
/// list are rejected when decoding.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $int:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr($int)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant = $value, )*
        }

        impl $crate::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::codec::Writer) {
                w.put(&(*self as $int).to_be_bytes());
            }
        }

        impl $crate::codec::Decode for $name {
            fn decode(r: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::codec::DecodeError> {
                let at = r.offset();
                let raw = <$int>::from_be_bytes(r.take_array()?);
                match raw {
                    $( v if v == $value => Ok(Self::$variant), )*
                    v => Err($crate::codec::DecodeError::new(
                        $crate::codec::DecodeErrorKind::InvalidValue { value: v.into() },
                        at,
                    ).within(stringify!($name))),
                }
            }
        }
    };
}

pub(crate) use code_point;
pub(crate) use wire_enum;
pub(crate) use wire_struct;
