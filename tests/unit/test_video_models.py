"""Video, location and billing models: parsing, request bodies, hidden secrets."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pixop_async.models.converter import structure, unstructure
from pixop_async.models.locations import (
    S3BucketWithAccessKeys,
    S3InputLocation,
    S3LocationPatch,
    S3LocationPost,
)
from pixop_async.models.videos import (
    CopyVideoDataToS3BucketRequest,
    CreateMasterVideoFromHttps,
    CreateMasterVideoFromS3Bucket,
    OperationStatus,
    Video,
    VideoDownloadUrl,
    VideoInStatus,
    VideoOutStatus,
    VideoPatch,
)

VID = "5b1f6a52-3f36-4a55-9f0e-0e1c8f1b8a11"
NOW = "2025-03-01T10:00:00.123Z"

VIDEO_JSON = {
    "id": VID,
    "createdAt": NOW,
    "updatedAt": NOW,
    "userId": VID,
    "name": "film",
    "teamId": VID,
    "projectId": VID,
    "someFutureField": {"nested": True},
    "flags": {
        "isMaster": True,
        "isProcessing": False,
        "isProcessed": False,
        "isIngesting": True,
        "isIngested": False,
        "isClip": False,
        "isSample": False,
    },
    "upload": {
        "file": {
            "name": "film.mp4",
            "size": 123,
            "type": "video/mp4",
            "containerName": "MPEG-4",
            "lastModified": NOW,
        },
        "uploadState": {
            "updatedAt": NOW,
            "uploadStatus": "PAUSED_FOR_MAINTENANCE",
            "progressPercentage": 40,
            "error": {"code": "CHECKSUM_MISMATCH", "message": "bad", "details": {"a": 1}},
        },
    },
    "ingestion": {
        "ingestionState": {"ingestionStatus": "IN_PROGRESS", "etaSeconds": 12},
        "metadata": {
            "durationInMillis": 20000,
            "averageFrameRate": {"frameRate": 29.97, "rational": "30000:1001"},
            "scanning": {"metadata": "PROGRESSIVE", "heuristics": "NEW_SCAN"},
        },
        "qualityAssessment": {"overallSubjectiveScore": 3.5},
    },
    "processing": {
        "processingState": {"processingStatus": "DONE", "progressPercentage": 100},
        "sourceVideo": {"videoId": VID, "endPositionMilliseconds": 10000},
        "options": {"filters": {"denoiser": True}},
    },
    "clipId": None,
    "output": {"state": None},
}


def test_video_parses_nested_parts_and_tolerates_unknowns() -> None:
    video = structure(VIDEO_JSON, Video)
    assert video.id == uuid.UUID(VID)
    assert video.flags.is_ingesting and not video.flags.is_clip
    assert video.upload is not None and video.upload.upload_state is not None
    status = video.upload.upload_state.upload_status
    assert status is not None and status.value == "PAUSED_FOR_MAINTENANCE" and not status.known
    assert video.upload.upload_state.error is not None
    assert video.upload.upload_state.error.details == {"a": 1}
    assert video.ingestion is not None
    assert video.ingestion.metadata.average_frame_rate is not None
    assert video.ingestion.metadata.average_frame_rate.frame_rate == 29.97
    assert video.ingestion.metadata.scanning is not None
    assert video.ingestion.metadata.scanning.heuristics.value == "NEW_SCAN"
    assert video.processing is not None and video.processing.options == {
        "filters": {"denoiser": True}
    }
    assert video.output is not None and video.output.state is None


def test_status_helpers() -> None:
    status = structure(
        {"videoId": VID, "upload": VIDEO_JSON["upload"], "ingestion": VIDEO_JSON["ingestion"]},
        VideoInStatus,
    )
    assert status.ingestion_status == OperationStatus.IN_PROGRESS
    assert not OperationStatus.IN_PROGRESS.is_terminal and OperationStatus.FAILED.is_terminal
    out = structure(
        {"videoId": VID, "output": {"state": {"status": "FAILED", "errorMessage": "x"}}},
        VideoOutStatus,
    )
    assert out.status == OperationStatus.FAILED
    assert structure({"videoId": VID, "output": {}}, VideoOutStatus).status is None


def test_request_bodies_are_camel_case_without_unset_fields() -> None:
    bucket = S3BucketWithAccessKeys("b-bucket", "AKIA123456", "s3cr3t-value")
    body = unstructure(
        CreateMasterVideoFromS3Bucket(name="n", object_key="k/v.mp4", s3_bucket=bucket)
    )
    assert body == {
        "name": "n",
        "objectKey": "k/v.mp4",
        "s3Bucket": {
            "bucket": "b-bucket",
            "accessKey": "AKIA123456",
            "secretAccessKey": "s3cr3t-value",
        },
    }
    assert unstructure(CreateMasterVideoFromHttps(name="n", url="https://x/y", project_id=VID)) == {
        "name": "n",
        "url": "https://x/y",
        "projectId": VID,
    }
    assert unstructure(VideoPatch(description="")) == {"description": ""}
    assert unstructure(CopyVideoDataToS3BucketRequest(bucket, "out"))["objectKeyPrefix"] == "out"
    assert unstructure(S3LocationPatch(name="x")) == {"name": "x"}


def test_secrets_never_in_reprs() -> None:
    secret, access = "wJalrXUtnFEMIK7MDENGbPxRfiCY", "AKIAIOSFODNN7EXAMPLE"
    for model in (
        S3BucketWithAccessKeys("bucket", access, secret),
        S3LocationPost("n", "bucket", access, secret),
        S3LocationPatch(access_key=access, secret_access_key=secret),
    ):
        text = repr(model)
        assert secret not in text and access not in text
        assert "***PLE" in text
    location = structure(
        {
            "id": VID,
            "createdAt": NOW,
            "updatedAt": NOW,
            "name": "loc",
            "bucket": "bucket",
            "accessKeyHidden": "*****PLE",
            "secretAccessKeyHidden": "*****CiY",
        },
        S3InputLocation,
    )
    assert "CiY" not in repr(location)
    link = structure(
        {
            "videoId": VID,
            "presignedUrl": "https://media/x?X-Amz-Signature=verysecret",
            "expiresAt": NOW,
            "fileSize": 10,
            "mimeType": "video/mp4",
            "fileExtension": "mp4",
            "suggestedFileName": "a.mp4",
            "crc32cChecksum": 4294967295,
        },
        VideoDownloadUrl,
    )
    assert "verysecret" not in repr(link)
    assert link.crc32c_checksum == 2**32 - 1


def test_billing_money_is_decimal() -> None:
    from pixop_async.models.billing import FinancialDetails

    details = structure(
        {
            "processingCreditsBalanceUsd": 1.341,
            "processingLifetimeSpendUsd": "20.1",
            "processingBaseVolumeDiscountGp": 100,
            "processingBaseVolumeDiscountPercentage": 3.3,
            "utilitiesBalanceUsd": -0.5,
        },
        FinancialDetails,
    )
    assert details.processing_credits_balance_usd == Decimal("1.341")
    assert details.processing_lifetime_spend_usd == Decimal("20.1")
    assert details.processing_base_volume_discount_percentage == Decimal("3.3")
