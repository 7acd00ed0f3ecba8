"""Name pools of the synthetic sanctions list: given names and surnames by tradition,
syllables of company names, generic words, legal forms, countries and spelling rules."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

GIVEN: dict[str, list[str]] = {
    "arabic": _words(
        """Mohammed Ahmed Ali Omar Khalid Hassan Hussein Ibrahim Yousef Abdullah Mustafa Tariq
        Walid Faisal Nasser Samir Karim Jamal Rashid Salim Hamza Bilal Ziad Adnan Majid Fadi
        Osama Anwar Abdulrahman Abdulaziz"""
    ),
    "persian": _words(
        """Reza Mehdi Hossein Ali Mohammad Hamid Saeed Majid Behrouz Dariush Farhad Kamran
        Parviz Javad Masoud Alireza Mojtaba Gholamreza Abbas Morteza"""
    ),
    "russian": _words(
        """Vladimir Sergei Alexei Dmitri Igor Yuri Oleg Nikolai Mikhail Andrei Viktor Pavel
        Gennady Arkady Boris Konstantin Yevgeny Roman Anatoly Vyacheslav"""
    ),
    "chinese": _words(
        """Wei Jun Lei Ming Hong Jian Hua Qiang Yong Jie Tao Bin Feng Gang Hui Xin Yan Ping
        Zhiwei Jianguo"""
    ),
    "korean": _words(
        """Jong Un Chol Song Kwang Myong Hyon Il Yong Chun Hak Nam Su Ho Dong Min Sung Jae Hyun
        Kyu"""
    ),
    "vietnamese": _words(
        """Minh Tuan Hung Dung Thanh Quang Huy Long Son Phuc Khanh Duc Binh Hai Nam"""
    ),
    "hispanic": _words(
        """Jose Juan Carlos Luis Miguel Jorge Pedro Rafael Alejandro Fernando Ricardo Joaquin
        Ramon Diego Hector Ignacio Rodrigo Nicolas Arturo Javier"""
    ),
    "anglo": _words(
        """John Michael David James Robert William Richard Thomas Charles Christopher Daniel
        Matthew Anthony Mark Steven Paul Andrew Kenneth George Edward"""
    ),
    "french": _words(
        """Jean Pierre Michel Philippe Alain Jacques Bernard Francois Laurent Olivier Thierry
        Christophe Didier Pascal Gilles"""
    ),
    "german": _words(
        """Hans Klaus Jurgen Wolfgang Dieter Uwe Helmut Gunter Stefan Matthias Rainer Horst
        Manfred Torsten Bernd"""
    ),
    "turkish": _words(
        """Mehmet Mustafa Ahmet Huseyin Hasan Ibrahim Ismail Osman Yusuf Murat Emre Burak
        Serkan Kemal Orhan"""
    ),
    "african": _words(
        """Kwame Kofi Chukwuemeka Oluwaseun Babatunde Abubakar Ibrahim Moussa Amadou Mamadou
        Ousmane Sekou Tendai Themba Sipho"""
    ),
}
SURNAMES: dict[str, list[str]] = {
    "arabic": _words(
        """Al-Masri Al-Tikriti Haddad Khoury Nasrallah Al-Zawahiri Hamdan Barakat Mansour Saleh
        Al-Rashid Qasim Yassin Al-Najjar Darwish Abdel-Rahman Al-Hashimi Shaaban Al-Khatib
        Bin-Hamad Al-Qadi Sabbagh Tamimi Obeid Al-Shami"""
    ),
    "persian": _words(
        """Hosseini Ahmadi Mohammadi Rezaei Moradi Karimi Jafari Rahimi Ghorbani Soleimani
        Shamkhani Velayati Larijani Rafsanjani Khatami Zarif Araghchi Vahidi Salehi Najafi"""
    ),
    "russian": _words(
        """Ivanov Petrov Sidorov Smirnov Kuznetsov Popov Volkov Sokolov Lebedev Kozlov Novikov
        Morozov Pavlov Semenov Golubev Vinogradov Bogdanov Vorobyov Fedorov Mikhailov
        Rotenberg Timchenko Deripaska Vekselberg Kovalchuk"""
    ),
    "chinese": _words(
        """Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo"""
    ),
    "korean": _words("""Kim Lee Pak Choe Jong Kang Cho Yun Jang Im Han Ri O So Hwang"""),
    "vietnamese": _words("""Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Ho Ngo Duong Ly"""),
    "hispanic": _words(
        """Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres
        Flores Rivera Gomez Diaz Cruz Morales Ortiz Gutierrez Chavez Ramos Guzman Loera
        Zambada Carrillo Fuentes"""
    ),
    "anglo": _words(
        """Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
        Martin Jackson Thompson White Harris Clark Lewis Walker"""
    ),
    "french": _words(
        """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent
        Lefebvre Michel Fournier"""
    ),
    "german": _words(
        """Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch
        Richter Klein Wolf Schroder"""
    ),
    "turkish": _words(
        """Yilmaz Kaya Demir Sahin Celik Yildiz Yildirim Ozturk Aydin Ozdemir Arslan Dogan
        Kilic Aslan Cetin"""
    ),
    "african": _words(
        """Okafor Adeyemi Mensah Diallo Traore Keita Toure Coulibaly Ndlovu Moyo Banda Phiri
        Mwangi Otieno Abubakar"""
    ),
}
SYLLABLES = _words(
    """ka ro ta mi zu ne vo li sa ter pol dan bar mex tor gal vin sur bel tek nor ast ari fen
    dor lux quin zar ix on ra"""
)
GENERIC = _words(
    """TRADING INTERNATIONAL GROUP HOLDING INDUSTRIES SHIPPING INVESTMENT GENERAL COMMERCIAL
    ENERGY TECHNOLOGY LOGISTICS IMPORT EXPORT SERVICES"""
)
LEGAL = [
    "CO., LTD.",
    "LLC",
    "LIMITED",
    "CORP.",
    "INC.",
    "S.A.",
    "GMBH",
    "FZE",
    "JSC",
    "OOO",
    "PTE. LTD.",
]
COUNTRIES = {
    "arabic": ("Syria", "SY"),
    "persian": ("Iran", "IR"),
    "russian": ("Russia", "RU"),
    "chinese": ("China", "CN"),
    "korean": ("Korea, North", "KP"),
    "vietnamese": ("Vietnam", "VN"),
    "hispanic": ("Mexico", "MX"),
    "anglo": ("United Kingdom", "GB"),
    "french": ("France", "FR"),
    "german": ("Germany", "DE"),
    "turkish": ("Turkey", "TR"),
    "african": ("Nigeria", "NG"),
}
CYRILLIC = dict(zip("abvgdezijklmnoprstufhc", "абвгдезийклмнопрстуфхц", strict=True))
TRANSLITERATIONS = (
    ("ou", "u"),
    ("u", "ou"),
    ("y", "i"),
    ("i", "y"),
    ("kh", "h"),
    ("q", "k"),
    ("k", "q"),
    ("ph", "f"),
    ("ee", "i"),
    ("ei", "ey"),
    ("ov", "off"),
    ("sh", "sch"),
    ("j", "dj"),
    ("mm", "m"),
    ("ss", "s"),
    ("dd", "d"),
    ("e", "a"),
    ("a", "e"),
    ("w", "v"),
    ("z", "s"),
    ("ch", "tch"),
    ("yu", "iu"),
    ("ya", "ia"),
    ("ai", "ay"),
)
ACCENTS = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "n": "ñ", "c": "ç"}
