"""The processing options model: encoding, container, filters and their settings.

Every nested object of the API's ``VideoProcessingConfigurationOptions`` is a frozen attrs
class here and every enum an :class:`OpenEnum`. Build options directly, e.g.::

    VideoProcessingConfigurationOptions(
        container=MediaContainer.MP4,
        encoding_configuration=EncodingConfiguration(codec=Codec.H264),
        filters=Filters(scaler=Scaler.DVRES2),
        filter_settings=FilterSettings(resolution=Resolution(tag=ResolutionTag.FULL_HD)),
    ).validate()

``validate()`` applies the documented ranges and cross-field rules
(:mod:`pixop_async.models.processing_rules`) and raises
:class:`~pixop_async.errors.InvalidRequestError` naming the dotted path of the offending
field (``options.filter_settings.resolution.width``).
"""

from __future__ import annotations

from typing import Any

import attrs

from .converter import structure, unstructure
from .processing_enums import (
    BIT_DEPTHS,
    AspectRatioTag,
    Augmenter,
    ChromaSubsampling,
    ClarityBoost,
    Codec,
    ColorPrimaries,
    ColorRange,
    ColorSpace,
    Debander,
    Deinterlacer,
    Denoiser,
    Dvres2Variant,
    EncodingProfile,
    FixedOutputResolution,
    FrameRateConverter,
    FrameRateTag,
    GrainSize,
    HdrFormat,
    InputMappingMode,
    InterlacedFieldOrderMode,
    InverseToneMapperAlgorithm,
    MasteringDisplayTag,
    MediaContainer,
    OutputMappingMode,
    OutputScanning,
    PostProcessor,
    Prescaler,
    Reshaper,
    ResolutionTag,
    Scaler,
    Stabilizer,
    ToneMapperAlgorithm,
    TransferCharacteristics,
)

__all__ = [
    "BIT_DEPTHS",
    "AspectRatioTag",
    "Augmenter",
    "ChromaSubsampling",
    "ClarityBoost",
    "Codec",
    "ColorPrimaries",
    "ColorRange",
    "ColorSpace",
    "Colorimetry",
    "CropRectangle",
    "Debander",
    "Deinterlacer",
    "Denoiser",
    "Dvres2Variant",
    "EncodingConfiguration",
    "EncodingProfile",
    "FaceForward",
    "FilmGrain",
    "FilterSettings",
    "Filters",
    "FixedOutputResolution",
    "FrameRateConverter",
    "FrameRateSetting",
    "FrameRateTag",
    "GrainSize",
    "HdrFormat",
    "InputColorSpaceConversion",
    "InputMappingMode",
    "InterlacedFieldOrderMode",
    "InverseToneMapper",
    "InverseToneMapperAlgorithm",
    "MasteringDisplay",
    "MasteringDisplayPoint",
    "MasteringDisplayTag",
    "MediaContainer",
    "NormalizedCropCoordinates",
    "OutputColorSpaceConversion",
    "OutputMappingMode",
    "OutputScanning",
    "PixelFormat",
    "PostProcessor",
    "PrescaledResolution",
    "Prescaler",
    "ProcessingSettings",
    "Reshaper",
    "Resolution",
    "ResolutionTag",
    "Scaler",
    "Stabilizer",
    "ToneMapper",
    "ToneMapperAlgorithm",
    "TransferCharacteristics",
    "VideoProcessingConfigurationOptions",
]

# --------------------------------------------------------------------------- encoding


@attrs.frozen
class PixelFormat:
    """Chroma subsampling and bit depth of the output (inherited from the source if unset)."""

    yuv: ChromaSubsampling | None = None
    bit_depth: int | None = None
    name: str | None = None


@attrs.frozen
class EncodingConfiguration:
    """Explicit encoder settings; ``bitrate`` in bits per second (>= 10 000)."""

    codec: Codec | None = None
    pixel_format: PixelFormat | None = None
    bitrate: int | None = None


# --------------------------------------------------------------------------- colour


@attrs.frozen
class MasteringDisplayPoint:
    x: float | None = None
    y: float | None = None


@attrs.frozen
class MasteringDisplay:
    """SMPTE ST 2086 mastering display: a preset ``tag`` or all four chromaticity points."""

    tag: MasteringDisplayTag | None = None
    red: MasteringDisplayPoint | None = None
    green: MasteringDisplayPoint | None = None
    blue: MasteringDisplayPoint | None = None
    white_point: MasteringDisplayPoint | None = None
    min_luminance: float | None = None
    max_luminance: float | None = None


@attrs.frozen
class Colorimetry:
    """Colour matrix, primaries, transfer, range and HDR format (with static metadata)."""

    color_space: ColorSpace | None = None
    color_primaries: ColorPrimaries | None = None
    transfer_characteristics: TransferCharacteristics | None = None
    color_range: ColorRange | None = None
    hdr_format: HdrFormat | None = None
    mastering_display: MasteringDisplay | None = None
    max_cll: float | None = None
    max_fall: float | None = None


@attrs.frozen
class ToneMapper:
    """HDR → SDR tone mapping applied on input."""

    algorithm: ToneMapperAlgorithm
    output_nits: float | None = None


@attrs.frozen
class InverseToneMapper:
    """SDR → HDR inverse tone mapping applied on output."""

    algorithm: InverseToneMapperAlgorithm
    output_nits: float | None = None
    saturation_boost: float | None = None


@attrs.frozen
class InputColorSpaceConversion:
    mapping_mode: InputMappingMode
    color_profile: Colorimetry | None = None
    metadata_only: bool | None = None
    tone_mapper: ToneMapper | None = None


@attrs.frozen
class OutputColorSpaceConversion:
    mapping_mode: OutputMappingMode
    color_profile: Colorimetry | None = None
    metadata_only: bool | None = None
    inverse_tone_mapper: InverseToneMapper | None = None


@attrs.frozen
class ProcessingSettings:
    """Colour-space conversions, a fixed output frame size and the output scanning."""

    input_color_space_conversion: InputColorSpaceConversion | None = None
    output_color_space_conversion: OutputColorSpaceConversion | None = None
    fixed_output_resolution: FixedOutputResolution | None = None
    output_scanning: OutputScanning | None = None


# --------------------------------------------------------------------------- filters


@attrs.frozen
class Filters:
    """Which filter runs in each pipeline slot (``None`` leaves a slot empty)."""

    deinterlacer: Deinterlacer | None = None
    reshaper: Reshaper | None = None
    prescaler: Prescaler | None = None
    denoiser: Denoiser | None = None
    stabilizer: Stabilizer | None = None
    augmenter: Augmenter | None = None
    scaler: Scaler | None = None
    frame_rate_converter: FrameRateConverter | None = None
    debander: Debander | None = None
    post_processor: PostProcessor | None = None


@attrs.frozen
class NormalizedCropCoordinates:
    """Crop corners relative to the frame (0..1), top-left then bottom-right."""

    x1: float
    y1: float
    x2: float
    y2: float


@attrs.frozen
class CropRectangle:
    width: int
    height: int
    x: int | None = None
    y: int | None = None


@attrs.frozen
class PrescaledResolution:
    width: int
    height: int


@attrs.frozen
class FaceForward:
    color_boost: int
    auto_white_balance: bool
    relight_intensity: int
    background_blur: int


@attrs.frozen
class Resolution:
    """Target size for the scaler: a ``tag``, or width/height (one of them plus
    ``aspect_ratio_tag`` is enough)."""

    tag: ResolutionTag | None = None
    width: int | None = None
    height: int | None = None
    aspect_ratio_tag: AspectRatioTag | None = None


@attrs.frozen
class FrameRateSetting:
    """Target frame rate for the converter: a ``tag`` or ``fps``."""

    tag: FrameRateTag | None = None
    fps: float | None = None


@attrs.frozen
class FilmGrain:
    grain_size: GrainSize
    grain_strength: int


@attrs.frozen
class FilterSettings:
    """Settings the selected filters need."""

    interlaced_field_order_mode: InterlacedFieldOrderMode | None = None
    normalized_crop_coordinates: NormalizedCropCoordinates | None = None
    crop_rectangle: CropRectangle | None = None
    prescaled_resolution: PrescaledResolution | None = None
    face_forward: FaceForward | None = None
    dvres2_variant: Dvres2Variant | None = None
    clarity_boost: ClarityBoost | None = None
    resolution: Resolution | None = None
    frame_rate: FrameRateSetting | None = None
    film_grain: FilmGrain | None = None


# --------------------------------------------------------------------------- options


@attrs.frozen
class VideoProcessingConfigurationOptions:
    """Everything a processing job does: encoding, container, filters, colour handling."""

    encoding_profile: EncodingProfile | None = None
    encoding_configuration: EncodingConfiguration | None = None
    container: MediaContainer | None = None
    filters: Filters | None = None
    filter_settings: FilterSettings | None = None
    processing_settings: ProcessingSettings | None = None

    def to_json(self) -> dict[str, Any]:
        """The options as API JSON (unset fields left out)."""
        data: dict[str, Any] = unstructure(self)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VideoProcessingConfigurationOptions:
        """Options from API JSON (e.g. ``Video.processing.options``)."""
        return structure(data, cls)

    def validate(self, field: str = "options") -> VideoProcessingConfigurationOptions:
        """Check ranges and cross-field rules; raises ``InvalidRequestError`` naming the
        dotted path of the first problem (under ``field``). Returns ``self``."""
        from .escape import unknown_enum_paths
        from .processing_rules import raise_first

        raise_first(self.to_json(), root=field, deliberate=frozenset(unknown_enum_paths(self)))
        return self
