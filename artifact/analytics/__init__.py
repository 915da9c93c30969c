"""Download analytics for staff: downloads and acceptances by report, organisation and week,
from the download receipts and acceptance records (nothing is counted twice or kept apart)."""
