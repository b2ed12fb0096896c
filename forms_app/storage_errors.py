"""What the storage backends raise, whichever of them is configured."""


class StorageError(RuntimeError):
    """Base class of every storage failure."""


class ObjectNotFound(StorageError):
    """No object is stored under this key (views answer 404)."""


class StorageUnavailable(StorageError):
    """The store cannot be used now: unreachable, refusing our credentials, bucket missing.

    The message names the cause (an exception class or an S3 error code, the bucket), never
    the content or who sent it. Jobs fail and are retried by the outbox; views answer 503.
    """
