"""AWS Batch job images: each subpackage is one image's entrypoint (see ``README.md``)."""
