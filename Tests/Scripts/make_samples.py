#!/usr/bin/env python3
"""Makes one real sample of each kind of file a family sends, with the tools that make them.

Usage: make_samples.py FOLDER

Office documents come from python-docx, openpyxl and python-pptx (the Office Open XML formats)
and odfpy (OpenDocument); the HEIC photo from libheif's heif-enc; the videos and sounds from
ffmpeg; the PDF from rsvg-convert. Prints one line per file: its name.
"""
import csv
import os
import shutil
import subprocess
import sys
import zipfile

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)


def path(name):
    return os.path.join(folder, name)


def run(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


import docx  # noqa: E402
import openpyxl  # noqa: E402
import pptx  # noqa: E402
from odf import opendocument, table, text  # noqa: E402
from odf.draw import Frame, Page, TextBox  # noqa: E402
from odf.style import MasterPage, PageLayout  # noqa: E402

document = docx.Document()
document.add_heading('Shopping list', 1)
document.add_paragraph('Eggs, flour, apples.')
document.save(path('list.docx'))

workbook = openpyxl.Workbook()
workbook.active.append(['Week', 'Pocket money'])
workbook.active.append([1, 5])
workbook.save(path('money.xlsx'))

slides = pptx.Presentation()
slide = slides.slides.add_slide(slides.slide_layouts[0])
slide.shapes.title.text = 'Holiday'
slides.save(path('holiday.pptx'))

odt = opendocument.OpenDocumentText()
odt.text.addElement(text.P(text='Dear Gran, thank you for the jumper.'))
odt.save(path('letter.odt'))

ods = opendocument.OpenDocumentSpreadsheet()
sheet = table.Table(name='Chores')
row = table.TableRow()
cell = table.TableCell()
cell.addElement(text.P(text='Dishes'))
row.addElement(cell)
sheet.addElement(row)
ods.spreadsheet.addElement(sheet)
ods.save(path('chores.ods'))

odp = opendocument.OpenDocumentPresentation()
layout = PageLayout(name='layout')
odp.automaticstyles.addElement(layout)
master = MasterPage(name='master', pagelayoutname=layout)
odp.masterstyles.addElement(master)
page = Page(masterpagename=master)
frame = Frame(width='20cm', height='3cm', x='1cm', y='1cm')
box = TextBox()
box.addElement(text.P(text='Sports day'))
frame.addElement(box)
page.addElement(frame)
odp.presentation.addElement(page)
odp.save(path('sports.odp'))

with open(path('scores.csv'), 'w', newline='') as handle:
    writer = csv.writer(handle)
    writer.writerow(['name', 'score'])
    writer.writerow(['Zoë', 12])

# As Excel saves "CSV (Comma delimited)" on Windows: Windows-1252, not UTF-8.
with open(path('prices.csv'), 'w', newline='', encoding='cp1252') as handle:
    csv.writer(handle).writerows([['item', 'price'], ['Crème brûlée', '£4.50']])

with open(path('notes.txt'), 'w') as handle:
    handle.write('Bins go out on Tuesday.\n')

with open(path('drawing.svg'), 'w') as handle:
    handle.write('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                 '<circle cx="32" cy="32" r="30" fill="orange"/></svg>')
run('rsvg-convert', '-f', 'pdf', '-o', path('drawing.pdf'), path('drawing.svg'))
run('rsvg-convert', '-o', path('drawing.png'), path('drawing.svg'))
run('heif-enc', '-o', path('garden.heic'), path('drawing.png'))

video = ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=10']
sound = ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1']
run('ffmpeg', '-y', *video, '-pix_fmt', 'yuv420p', path('clip.mp4'))
run('ffmpeg', '-y', *video, '-pix_fmt', 'yuv420p', '-f', 'mov', path('clip.mov'))
run('ffmpeg', '-y', *sound, '-c:a', 'libopus', path('voice.webm'))
run('ffmpeg', '-y', *sound, '-c:a', 'libopus', path('voice.ogg'))
run('ffmpeg', '-y', *sound, '-c:a', 'aac', path('voice.m4a'))

with zipfile.ZipFile(path('photos.zip'), 'w') as archive:
    archive.write(path('drawing.png'), 'drawing.png')
shutil.copy('/bin/true', path('program'))

for name in sorted(os.listdir(folder)):
    if name not in ('drawing.svg',):
        print(name)
