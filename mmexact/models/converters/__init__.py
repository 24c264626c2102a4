# Copyright (c) mmexact contributors. All rights reserved.
from .exact_reference import (DATE_COLUMNS, REF_DATE_COLUMNS,
                              convert_exact_reference_checkpoint,
                              date_column_map, exact_reference_to_mmexact,
                              load_exact_reference_state_dict,
                              mmexact_to_exact_reference, reference_date_index,
                              reference_key_pairs, reference_taap_kernel)

__all__ = [
    'REF_DATE_COLUMNS', 'DATE_COLUMNS', 'reference_date_index',
    'date_column_map', 'reference_taap_kernel', 'reference_key_pairs',
    'exact_reference_to_mmexact', 'mmexact_to_exact_reference',
    'convert_exact_reference_checkpoint', 'load_exact_reference_state_dict'
]
