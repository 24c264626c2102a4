# Copyright (c) mmexact contributors. All rights reserved.
"""Plot training curves or time the iterations of mmengine JSON logs.

A thin front end of OpenMMLab's own log analysis: the logs are read with
``mmpretrain.utils.load_json_log`` and plotted / timed by the
``plot_curve`` and ``cal_train_time`` functions of the
``tools/analysis_tools/analyze_logs.py`` script that ships with mmpretrain
(mmseg's version of the script needs seaborn, mmpretrain's does not). The
same subcommands and options; a log may also be given as a run directory
(``work_dirs/NAME/<timestamp>``) or a work directory, whose latest
``vis_data/scalars.json`` is used.

Examples::

    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/tsvit --keys loss mIoU --legend loss mIoU --out curves.png
    python tools/analysis_tools/analyze_logs.py cal_train_time work_dirs/tsvit
"""
import argparse
import glob
import os.path as osp
import re
import sys
from typing import List, Optional

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmpretrain.utils import load_json_log  # noqa: E402

from mmexact.utils import load_openmmlab_tool  # noqa: E402


def resolve_log(path: str) -> str:
    """A scalars JSON log from a file, a run or a work directory."""
    if osp.isfile(path):
        if not path.endswith('.json'):
            raise ValueError(f'{path}: expected a JSON log (scalars.json)')
        return path
    if osp.isdir(path):
        found = sorted(
            glob.glob(osp.join(path, 'vis_data', 'scalars.json')) +
            glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
        if found:
            return found[-1]  # timestamped run folders sort by time
    raise FileNotFoundError(f'{path}: no JSON log (vis_data/scalars.json) '
                            'found')


def parse_args(argv=None):
    tool = load_openmmlab_tool('mmpretrain', 'analysis_tools/analyze_logs.py')
    parser = argparse.ArgumentParser(description='Analyze JSON logs')
    subparsers = parser.add_subparsers(dest='task', required=True)
    tool.add_plot_parser(subparsers)
    tool.add_time_parser(subparsers)
    args = parser.parse_args(argv)
    if getattr(args, 'window_size', '') and not re.match(
            r'\d+\*\d+', args.window_size):
        parser.error("--window-size must be in the format 'W*H'")
    return args


def main(argv: Optional[List[str]] = None) -> list:
    args = parse_args(argv)
    tool = load_openmmlab_tool('mmpretrain', 'analysis_tools/analyze_logs.py')
    args.json_logs = [resolve_log(p) for p in args.json_logs]
    log_dicts = [load_json_log(p) for p in args.json_logs]
    for path, log in zip(args.json_logs, log_dicts):
        if not log['train'] and not log['val']:
            raise ValueError(f'{path}: the log is empty')
    if args.task == 'cal_train_time':
        if any(not log['train'] for log in log_dicts):
            raise ValueError('cal_train_time needs training entries (with '
                             '"lr") in every log')
        tool.cal_train_time(log_dicts, args)
    else:
        tool.plot_curve(log_dicts, args)
        if args.out is not None:
            tool.plt.close(tool.plt.gcf())
    return log_dicts


if __name__ == '__main__':
    main()
