"""Enums of the processing options (every one an :class:`OpenEnum`)."""

from __future__ import annotations

from .enums import OpenEnum


class EncodingProfile(OpenEnum):
    """Preset encoders (Apple ProRes, Avid DNxHD/DNxHR) with container-appropriate settings."""

    PRORES_422_LT = "PRORES_422_LT"
    PRORES_422_STANDARD = "PRORES_422_STANDARD"
    PRORES_422_PROXY = "PRORES_422_PROXY"
    PRORES_422_HQ = "PRORES_422_HQ"
    PRORES_4444_STANDARD = "PRORES_4444_STANDARD"
    PRORES_4444_XQ = "PRORES_4444_XQ"
    DNXHD_36_LB = "DNXHD_36_LB"
    DNXHD_45_LB = "DNXHD_45_LB"
    DNXHD_75_LB = "DNXHD_75_LB"
    DNXHD_90_LB = "DNXHD_90_LB"
    DNXHD_115_SQ = "DNXHD_115_SQ"
    DNXHD_120_SQ = "DNXHD_120_SQ"
    DNXHD_145_SQ = "DNXHD_145_SQ"
    DNXHD_240_SQ = "DNXHD_240_SQ"
    DNXHD_290_SQ = "DNXHD_290_SQ"
    DNXHD_175_HQ = "DNXHD_175_HQ"
    DNXHD_185_HQ = "DNXHD_185_HQ"
    DNXHD_220_HQ = "DNXHD_220_HQ"
    DNXHD_365_HQ = "DNXHD_365_HQ"
    DNXHD_440_HQ = "DNXHD_440_HQ"
    DNXHD_175X_HQX = "DNXHD_175X_HQX"
    DNXHD_185X_HQX = "DNXHD_185X_HQX"
    DNXHD_220X_HQX = "DNXHD_220X_HQX"
    DNXHD_365X_HQX = "DNXHD_365X_HQX"
    DNXHD_440X_HQX = "DNXHD_440X_HQX"
    DNXHD_350X_444 = "DNXHD_350X_444"
    DNXHD_390X_444 = "DNXHD_390X_444"
    DNXHD_440X_444 = "DNXHD_440X_444"
    DNXHD_730X_444 = "DNXHD_730X_444"
    DNXHD_880X_444 = "DNXHD_880X_444"
    DNXHR_LB = "DNXHR_LB"
    DNXHR_SQ = "DNXHR_SQ"
    DNXHR_HQ = "DNXHR_HQ"
    DNXHR_HQX = "DNXHR_HQX"
    DNXHR_444 = "DNXHR_444"


class Codec(OpenEnum):
    H264 = "H264"
    MPEG2 = "MPEG2"
    HEVC = "HEVC"
    XDCAM = "XDCAM"
    FFV1 = "FFV1"


class MediaContainer(OpenEnum):
    MOV = "MOV"
    MXF = "MXF"
    MP4 = "MP4"
    MPEGTS = "MPEGTS"


class ChromaSubsampling(OpenEnum):
    YUV_420 = "4:2:0"
    YUV_422 = "4:2:2"
    YUV_444 = "4:4:4"


class ColorSpace(OpenEnum):
    BT470BG = "BT470BG"
    FCC = "FCC"
    SMPTE170M = "SMPTE170M"
    SMPTE240M = "SMPTE240M"
    BT709 = "BT709"
    BT2020NC = "BT2020NC"
    BT2020C = "BT2020C"


class ColorPrimaries(OpenEnum):
    BT470BG = "BT470BG"
    BT470M = "BT470M"
    SMPTE170M = "SMPTE170M"
    SMPTE240M = "SMPTE240M"
    FILM = "FILM"
    BT709 = "BT709"
    BT2020 = "BT2020"
    SMPTE428 = "SMPTE428"
    SMPTE431 = "SMPTE431"
    SMPTE432 = "SMPTE432"


class TransferCharacteristics(OpenEnum):
    BT470BG = "BT470BG"
    BT470M = "BT470M"
    SMPTE170M = "SMPTE170M"
    SMPTE240M = "SMPTE240M"
    BT709 = "BT709"
    BT2020_10 = "BT2020_10"
    BT2020_12 = "BT2020_12"
    LINEAR = "LINEAR"
    SMPTE2084 = "SMPTE2084"
    ARIB_STD_B67 = "ARIB_STD_B67"


class ColorRange(OpenEnum):
    LIMITED = "LIMITED"
    FULL = "FULL"


class HdrFormat(OpenEnum):
    HLG = "HLG"
    PQ10 = "PQ10"
    HDR10 = "HDR10"


class MasteringDisplayTag(OpenEnum):
    P3_D65 = "P3_D65"
    BT2020 = "BT2020"


class InterlacedFieldOrderMode(OpenEnum):
    AUTO_METADATA = "AUTO_METADATA"
    AUTO_SEGMENT_ANALYSIS = "AUTO_SEGMENT_ANALYSIS"
    TOP_FIELD_FIRST = "TOP_FIELD_FIRST"
    BOTTOM_FIELD_FIRST = "BOTTOM_FIELD_FIRST"


class Dvres2Variant(OpenEnum):
    GENERIC = "GENERIC"
    FINE_TUNING = "FINE_TUNING"
    SELFIE_STYLE = "SELFIE_STYLE"


class ClarityBoost(OpenEnum):
    NONE = "NONE"
    MARGINAL = "MARGINAL"
    VERY_LOW = "VERY_LOW"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    VERY_HIGH = "VERY_HIGH"


class GrainSize(OpenEnum):
    SUPER_FINE = "SUPER_FINE"
    FINE = "FINE"
    MEDIUM = "MEDIUM"
    COARSE = "COARSE"
    VERY_COARSE = "VERY_COARSE"


class FrameRateTag(OpenEnum):
    FILM_NTSC = "FILM_NTSC"
    FILM = "FILM"
    VIDEO_PAL = "VIDEO_PAL"
    VIDEO_NTSC = "VIDEO_NTSC"
    VIDEO_HD = "VIDEO_HD"
    VIDEO_PAL_FAST = "VIDEO_PAL_FAST"
    VIDEO_NTSC_FAST = "VIDEO_NTSC_FAST"
    VIDEO_HD_FAST = "VIDEO_HD_FAST"
    VIDEO_PAL_UHD = "VIDEO_PAL_UHD"
    VIDEO_NTSC_UHD = "VIDEO_NTSC_UHD"
    VIDEO_UHD_FAST = "VIDEO_UHD_FAST"


class ResolutionTag(OpenEnum):
    STANDARD_HD = "STANDARD_HD"
    FULL_HD = "FULL_HD"
    UHD_4K = "UHD_4K"
    UHD_8K = "UHD_8K"
    X1 = "1X"
    X2 = "2X"
    X3 = "3X"
    X4 = "4X"


class AspectRatioTag(OpenEnum):
    DISPLAY = "DISPLAY"
    STORAGE = "STORAGE"
    PAR_PRESERVED = "PAR_PRESERVED"
    RATIO_16_9 = "16:9"
    RATIO_4_3 = "4:3"


class Deinterlacer(OpenEnum):
    DEINT = "DEINT"
    YADIF = "YADIF"
    BWDIF = "BWDIF"
    WESTON3F = "WESTON3F"


class Reshaper(OpenEnum):
    CROP = "CROP"


class Prescaler(OpenEnum):
    SCALE = "SCALE"


class Denoiser(OpenEnum):
    DENOISE = "DENOISE"
    HQDN3D = "HQDN3D"


class Stabilizer(OpenEnum):
    DEJIT = "DEJIT"


class Augmenter(OpenEnum):
    FACEFORWARD = "FACEFORWARD"


class Scaler(OpenEnum):
    DVRES2 = "DVRES2"
    DVRES = "DVRES"
    PABSR1 = "PABSR1"
    SCALE = "SCALE"


class FrameRateConverter(OpenEnum):
    VFI = "VFI"
    FPS = "FPS"
    FBLEND = "FBLEND"
    MCINTERPOLATE = "MCINTERPOLATE"


class Debander(OpenEnum):
    GRADFUN = "GRADFUN"


class PostProcessor(OpenEnum):
    FILMGRAIN = "FILMGRAIN"


class FixedOutputResolution(OpenEnum):
    STANDARD_HD = "STANDARD_HD"
    FULL_HD = "FULL_HD"
    UHD_4K = "UHD_4K"
    UHD_8K = "UHD_8K"


class OutputScanning(OpenEnum):
    AUTO = "AUTO"
    PROGRESSIVE = "PROGRESSIVE"
    INTERLACED_TOP_FIRST = "INTERLACED_TOP_FIRST"
    INTERLACED_BOTTOM_FIRST = "INTERLACED_BOTTOM_FIRST"


class InputMappingMode(OpenEnum):
    STRICT_USER = "STRICT_USER"
    SOURCE_PRIORITY = "SOURCE_PRIORITY"
    USER_PRIORITY = "USER_PRIORITY"
    RESOLUTION_ONLY = "RESOLUTION_ONLY"


class OutputMappingMode(OpenEnum):
    STRICT_USER = "STRICT_USER"
    INPUT_PRIORITY = "INPUT_PRIORITY"
    SOURCE_PRIORITY = "SOURCE_PRIORITY"
    USER_PRIORITY = "USER_PRIORITY"
    RESOLUTION_ONLY = "RESOLUTION_ONLY"


class ToneMapperAlgorithm(OpenEnum):
    LINEAR = "LINEAR"
    CLIP = "CLIP"
    HABLE = "HABLE"
    REINHARD = "REINHARD"
    MOBIUS = "MOBIUS"


class InverseToneMapperAlgorithm(OpenEnum):
    INFINITEHDR = "INFINITEHDR"
    LINEAR = "LINEAR"
    HABLE = "HABLE"
    REINHARD = "REINHARD"
    MOBIUS = "MOBIUS"


#: Bit depths the API accepts in ``PixelFormat.bitDepth`` (a JSON integer).
BIT_DEPTHS = (8, 10, 12)
