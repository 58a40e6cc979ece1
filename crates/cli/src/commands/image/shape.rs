//! The typed view of `GET /images/{name}/json`: docker 28's
//! `image.InspectResponse` (fields, JSON names, `omitempty`), so that
//! `--format` templates see what they see with docker (nil slices print
//! `[]`, missing labels index to `""`, `{{json .}}` has docker's keys).
//! `Config` flattens docker's embedded `ImageConfig` and its extension;
//! `ContainerConfig` and `Descriptor` keep the daemon's field order.

use crate::format::template::MapElem;
use crate::inspect::{Field, Shape};

const fn f(name: &'static str, omit_empty: bool, shape: Shape) -> Field {
    Field {
        name,
        json: name,
        omit_empty,
        shape,
    }
}

static HEALTHCHECK: [Field; 6] = [
    f("Test", true, Shape::List(&STRS_ELEM)),
    f("Interval", true, Shape::Int),
    f("Timeout", true, Shape::Int),
    f("StartPeriod", true, Shape::Int),
    f("StartInterval", true, Shape::Int),
    f("Retries", true, Shape::Int),
];
static HEALTHCHECK_SHAPE: Shape = Shape::Struct("v1.HealthcheckConfig", &HEALTHCHECK);

static CONFIG: [Field; 13] = [
    f("User", true, Shape::Str),
    f("ExposedPorts", true, Shape::Map(MapElem::Empty)),
    f("Env", true, Shape::List(&STRS_ELEM)),
    f("Entrypoint", true, Shape::List(&STRS_ELEM)),
    f("Cmd", true, Shape::List(&STRS_ELEM)),
    f("Volumes", true, Shape::Map(MapElem::Empty)),
    f("WorkingDir", true, Shape::Str),
    f("Labels", true, Shape::Map(MapElem::Str)),
    f("StopSignal", true, Shape::Str),
    f("ArgsEscaped", true, Shape::Bool),
    f("Healthcheck", true, Shape::Ptr(&HEALTHCHECK_SHAPE)),
    f("OnBuild", true, Shape::List(&STRS_ELEM)),
    f("Shell", true, Shape::List(&STRS_ELEM)),
];
static STRS_ELEM: Shape = Shape::Str;
static CONFIG_SHAPE: Shape = Shape::Struct("v1.DockerOCIImageConfig", &CONFIG);

static DRIVER: [Field; 2] = [
    f("Data", false, Shape::Map(MapElem::Str)),
    f("Name", false, Shape::Str),
];

static ROOTFS: [Field; 2] = [
    f("Type", true, Shape::Str),
    f("Layers", true, Shape::List(&STRS_ELEM)),
];

static METADATA: [Field; 1] = [f("LastTagTime", true, Shape::Time)];

static CONTAINER_CONFIG: Shape = Shape::JsonStruct("container.Config");
static DESCRIPTOR: Shape = Shape::JsonStruct("v1.Descriptor");

static INSPECT: [Field; 21] = [
    Field {
        name: "ID",
        json: "Id",
        omit_empty: false,
        shape: Shape::Str,
    },
    f("RepoTags", false, Shape::List(&STRS_ELEM)),
    f("RepoDigests", false, Shape::List(&STRS_ELEM)),
    f("Parent", false, Shape::Str),
    f("Comment", false, Shape::Str),
    f("Created", true, Shape::Str),
    f("Container", true, Shape::Str),
    f("ContainerConfig", true, Shape::Ptr(&CONTAINER_CONFIG)),
    f("DockerVersion", false, Shape::Str),
    f("Author", false, Shape::Str),
    f("Config", false, Shape::Ptr(&CONFIG_SHAPE)),
    f("Architecture", false, Shape::Str),
    f("Variant", true, Shape::Str),
    f("Os", false, Shape::Str),
    f("OsVersion", true, Shape::Str),
    f("Size", false, Shape::Int),
    f("VirtualSize", true, Shape::Int),
    f(
        "GraphDriver",
        false,
        Shape::Struct("storage.DriverData", &DRIVER),
    ),
    f("RootFS", false, Shape::Struct("image.RootFS", &ROOTFS)),
    f(
        "Metadata",
        false,
        Shape::Struct("image.Metadata", &METADATA),
    ),
    f("Descriptor", true, Shape::Ptr(&DESCRIPTOR)),
];

/// docker 28's `image.InspectResponse`.
pub static IMAGE_INSPECT: Shape = Shape::Struct("image.InspectResponse", &INSPECT);
